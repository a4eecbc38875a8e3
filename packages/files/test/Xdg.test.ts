import { describe, expect, it } from "vitest"
import * as Xdg from "../src/Xdg.js"

describe("Xdg", () => {
  it("uses an absolute variable as it is", () => {
    const env = { HOME: "/home/u", XDG_STATE_HOME: "/s", XDG_CONFIG_HOME: "/c", XDG_RUNTIME_DIR: "/run/user/1000" }
    expect(Xdg.stateDir(env)).toBe("/s/tollgate")
    expect(Xdg.configDir(env)).toBe("/c/tollgate")
    expect(Xdg.runtimeDir(env)).toBe("/run/user/1000/tollgate")
    expect(Xdg.base("XDG_DATA_HOME", env)).toBe("/home/u/.local/share")
  })

  it.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "  "],
    ["relative, which the spec says to ignore", "state"]
  ])("falls back to the default under HOME when the variable is %s", (_, value) => {
    const env = { HOME: "/home/u", XDG_STATE_HOME: value, XDG_CONFIG_HOME: value, XDG_RUNTIME_DIR: value }
    expect(Xdg.stateDir(env)).toBe("/home/u/.local/state/tollgate")
    expect(Xdg.configDir(env)).toBe("/home/u/.config/tollgate")
    expect(Xdg.runtimeDir(env)).toBe("/home/u/.local/state/tollgate/run")
    expect(Xdg.base("XDG_CACHE_HOME", env)).toBe("/home/u/.cache")
  })

  it("a blank HOME is the operating system's home directory, never the current one", () => {
    const home = Xdg.home({ HOME: " " })
    expect(home.startsWith("/")).toBe(true)
    expect(Xdg.stateDir({ HOME: "" })).toBe(`${Xdg.home({})}/.local/state/tollgate`)
  })
})
