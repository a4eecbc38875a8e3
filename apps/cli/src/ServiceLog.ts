/**
 * One log line of a long-running tollgate program (the daemon, the gateway)
 * on stderr: journald stamps every line itself, while a log file (launchd)
 * or a terminal needs our stamp.
 */
export const log = (line: string): void => {
  process.stderr.write(process.env["JOURNAL_STREAM"] ? `${line}\n` : `${new Date().toISOString()} ${line}\n`)
}
