/** How `tollgate refresh` and `tollgate token` end when the refresh failed. */

/** Exit status when a refresh succeeded upstream but could not be saved: loud on purpose. */
export const NOT_PERSISTED_EXIT = 3

/** A failed refresh, already reported; carries the exit status. */
export class RefreshFailed extends Error {
  constructor(readonly exitCode: number) {
    super("refresh failed")
  }
}
