/** ServiceUnit's systemd unit and launchd plist, read back as the service manager would read them. */
import { describe, expect, it } from "vitest"
import * as ServiceUnit from "../src/ServiceUnit.js"
import { parseIni, readPlist, splitExec, value } from "./support/serviceFiles.js"

const awkward = {
  execPath: "/opt/node 20/bin/node",
  cliPath: `/home/o'neil/My "tools"/100%/$HOME/a\\b & <c>/tollgate.js`
}

describe("ServiceUnit", () => {
  it("writes a systemd user unit whose ExecStart systemd reads back as the exact argv", () => {
    const unit = ServiceUnit.systemdUnit({
      ...awkward,
      env: { CLAUDE_CONFIG_DIR: "/home/x/my claude/%h", XDG_STATE_HOME: "/s" }
    })
    const ini = parseIni(unit)
    expect([...ini.keys()]).toEqual(["Unit", "Service", "Install"])
    expect(value(ini.get("Unit"), "Description")).toEqual(["tollgate usage daemon"])
    const service = ini.get("Service")
    expect(value(service, "ExecStart")).toHaveLength(1)
    expect(splitExec(value(service, "ExecStart")[0]!)).toEqual([awkward.execPath, awkward.cliPath, "daemon", "run"])
    expect(value(service, "ExecStart")[0]).toMatch(/^"\/opt\/node 20\/bin\/node" /)
    expect(value(service, "Restart")).toEqual(["on-failure"])
    expect(value(service, "RestartSec")).toEqual(["5"])
    expect(value(service, "NoNewPrivileges")).toEqual(["yes"])
    // V8's JIT needs writable+executable memory.
    expect(value(service, "MemoryDenyWriteExecute")).toEqual([])
    expect(value(service, "Environment").map((e) => splitExec(e.replace(/\$/g, "$$$$")))).toEqual([
      ["CLAUDE_CONFIG_DIR=/home/x/my claude/%h"],
      ["XDG_STATE_HOME=/s"]
    ])
    expect(value(ini.get("Install"), "WantedBy")).toEqual(["default.target"])

    const plain = ServiceUnit.systemdUnit({ execPath: "/usr/bin/node", cliPath: "/usr/lib/tollgate/tollgate.js" })
    expect(plain).toContain("ExecStart=/usr/bin/node /usr/lib/tollgate/tollgate.js daemon run\n")
    expect(plain).not.toContain("Environment=")
  })

  it("writes a well-formed launchd plist with everything escaped", () => {
    const xml = ServiceUnit.launchdPlist({ ...awkward, home: "/Users/a&b", env: { TOLLGATE_X: "<1 & 2>" } })
    expect(readPlist(xml)).toEqual({
      Label: "dev.tollgate.daemon",
      ProgramArguments: [awkward.execPath, awkward.cliPath, "daemon", "run"],
      EnvironmentVariables: { TOLLGATE_X: "<1 & 2>" },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 5,
      ProcessType: "Background",
      Umask: 0o077,
      StandardErrorPath: "/Users/a&b/Library/Logs/tollgate/daemon.log"
    })
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist /)
  })

  it("refuses what a service file cannot say: relative paths, line breaks, control characters, bad variable names", () => {
    expect(() => ServiceUnit.systemdUnit({ execPath: "node", cliPath: "/x.js" })).toThrow(/absolute/)
    expect(() =>
      ServiceUnit.systemdUnit({ execPath: "/node", cliPath: "/x\n[Service]\nExecStartPre=/bin/evil" })
    ).toThrow(/line breaks/)
    expect(() => ServiceUnit.systemdUnit({ execPath: "/node", cliPath: "/x.js", env: { "A B": "1" } })).toThrow(
      /variable name/
    )
    expect(() => ServiceUnit.launchdPlist({ execPath: "/node", cliPath: "/x\u0001.js", home: "/h" })).toThrow(/control/)
  })

  it("puts the file under XDG_CONFIG_HOME (default ~/.config) on Linux and ~/Library/LaunchAgents on macOS", () => {
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u", XDG_CONFIG_HOME: "/cfg" })).toBe(
      "/cfg/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u" })).toBe(
      "/home/u/.config/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("linux", { HOME: "/home/u", XDG_CONFIG_HOME: "relative" })).toBe(
      "/home/u/.config/systemd/user/tollgate-daemon.service"
    )
    expect(ServiceUnit.unitPath("darwin", { HOME: "/Users/u", XDG_CONFIG_HOME: "/cfg" })).toBe(
      "/Users/u/Library/LaunchAgents/dev.tollgate.daemon.plist"
    )
    expect(() => ServiceUnit.unitPath("linux", {})).toThrow(/HOME/)
  })
})
