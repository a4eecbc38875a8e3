// The service installer's steps on real files in a throwaway HOME: what the
// service's environment holds, the unit written only when it changed and
// never through a planted link, the systemd wants link removed with it only
// when it is ours, and the commands a user is told to paste.
import { chmod, lstat, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { make as makeHome, type Sandbox } from "@tollgate/conformance/Sandbox"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as ServiceInstall from "../src/ServiceInstall.js"
import * as ServiceUnit from "../src/ServiceUnit.js"

let home: Sandbox
beforeEach(async () => {
  home = await makeHome("tollgate-service-install-")
})
afterEach(async () => {
  await home.cleanup()
})

describe("serviceEnv", () => {
  it("passes the named variables this shell sets, and XDG_RUNTIME_DIR on macOS only", () => {
    const env = { XDG_STATE_HOME: "/s", TOLLGATE_GATEWAY_PORT: "", XDG_RUNTIME_DIR: "/r", SECRET: "x" }
    const names = ["XDG_STATE_HOME", "TOLLGATE_GATEWAY_PORT", "CLAUDE_CONFIG_DIR"]
    expect(ServiceInstall.serviceEnv(names, "linux", env)).toEqual({ XDG_STATE_HOME: "/s" })
    expect(ServiceInstall.serviceEnv(names, "darwin", env)).toEqual({ XDG_STATE_HOME: "/s", XDG_RUNTIME_DIR: "/r" })
  })
})

describe("the commands a user is told to run", () => {
  it("systemd: reload and enable; launchd: bootstrap and bootout in the user's GUI domain", () => {
    expect(ServiceInstall.startCommands("linux", "/u/x.service", ServiceUnit.DAEMON, 501)).toEqual([
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", ServiceUnit.DAEMON.systemdUnit]
    ])
    expect(ServiceInstall.startCommands("darwin", "/u/x.plist", ServiceUnit.GATEWAY, 501)).toEqual([
      ["launchctl", "bootstrap", "gui/501", "/u/x.plist"]
    ])
    expect(ServiceInstall.stopCommands("darwin", ServiceUnit.DAEMON, 501)).toEqual([
      ["launchctl", "bootout", `gui/501/${ServiceUnit.DAEMON.launchdLabel}`]
    ])
  })

  it("quotes the words a shell would split or expand", () => {
    expect(
      ServiceInstall.shellLine([
        ["launchctl", "bootstrap", "gui/501", "/Users/a b/it's.plist"],
        ["systemctl", "--user", "daemon-reload"]
      ])
    ).toBe(`launchctl bootstrap gui/501 '/Users/a b/it'\\''s.plist' && systemctl --user daemon-reload`)
  })
})

describe("writeUnit", () => {
  it("writes 0644, then leaves an identical unit alone, then updates a changed one", async () => {
    const file = join(home.dirs.XDG_CONFIG_HOME, "systemd", "user", ServiceUnit.DAEMON.systemdUnit)
    const write = (text: string) =>
      ServiceInstall.writeUnit({ file, text, platform: "linux", home: home.home, service: ServiceUnit.DAEMON })
    expect(await write("one\n")).toBe("written")
    expect((await stat(file)).mode & 0o777).toBe(0o644)
    expect(await write("one\n")).toBe("unchanged")
    expect(await write("two\n")).toBe("updated")
    expect(await readFile(file, "utf8")).toBe("two\n")
  })

  it("replaces a link planted at the unit's path instead of writing through it", async () => {
    const victim = join(home.home, "victim")
    await writeFile(victim, "keep\n")
    const file = join(home.home, "unit.service")
    await symlink(victim, file)
    expect(
      await ServiceInstall.writeUnit({
        file,
        text: "unit\n",
        platform: "linux",
        home: home.home,
        service: ServiceUnit.DAEMON
      })
    ).toBe("updated")
    expect(await readFile(victim, "utf8")).toBe("keep\n")
    expect((await lstat(file)).isSymbolicLink()).toBe(false)
  })

  it("on macOS makes the agent's log directory too", async () => {
    const file = join(home.home, "Library", "LaunchAgents", `${ServiceUnit.DAEMON.launchdLabel}.plist`)
    await ServiceInstall.writeUnit({
      file,
      text: "<plist/>\n",
      platform: "darwin",
      home: home.home,
      service: ServiceUnit.DAEMON
    })
    expect((await stat(join(ServiceUnit.launchdLogPath(home.home, ServiceUnit.DAEMON), ".."))).isDirectory()).toBe(true)
  })
})

describe("removal", () => {
  const unitDir = () => join(home.dirs.XDG_CONFIG_HOME, "systemd", "user")
  const wantsOf = () => join(unitDir(), "default.target.wants", ServiceUnit.DAEMON.systemdUnit)

  it("is null when nothing is installed", async () => {
    expect(
      await ServiceInstall.removal("linux", join(unitDir(), ServiceUnit.DAEMON.systemdUnit), ServiceUnit.DAEMON)
    ).toBeNull()
  })

  it("takes systemd's wants link with the unit when it points at it, and removes both", async () => {
    const file = join(unitDir(), ServiceUnit.DAEMON.systemdUnit)
    await mkdir(join(unitDir(), "default.target.wants"), { recursive: true })
    await writeFile(file, "unit\n")
    await symlink(`../${ServiceUnit.DAEMON.systemdUnit}`, wantsOf())
    const plan = await ServiceInstall.removal("linux", file, ServiceUnit.DAEMON)
    expect(plan).toEqual({ file, wants: wantsOf() })
    await ServiceInstall.remove(plan!)
    expect(await lstat(file).catch(() => null)).toBeNull()
    expect(await lstat(wantsOf()).catch(() => null)).toBeNull()
  })

  it("leaves a wants link that points elsewhere", async () => {
    const file = join(unitDir(), ServiceUnit.DAEMON.systemdUnit)
    await mkdir(join(unitDir(), "default.target.wants"), { recursive: true })
    await writeFile(file, "unit\n")
    await symlink("/etc/systemd/user/someone-else.service", wantsOf())
    expect(await ServiceInstall.removal("linux", file, ServiceUnit.DAEMON)).toEqual({ file, wants: null })
  })
})

describe("onPath", () => {
  it("finds an executable in PATH, not a file that cannot be run", async () => {
    const bin = join(home.home, "bin")
    await mkdir(bin)
    await writeFile(join(bin, "systemctl"), "#!/bin/sh\n")
    await chmod(join(bin, "systemctl"), 0o755)
    await writeFile(join(bin, "launchctl"), "not a program\n")
    expect(await ServiceInstall.onPath("systemctl", `/nowhere:${bin}`)).toBe(true)
    expect(await ServiceInstall.onPath("launchctl", bin)).toBe(false)
    expect(await ServiceInstall.onPath("systemctl", undefined)).toBe(false)
  })
})
