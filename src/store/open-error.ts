/** A database that cannot be opened or migrated; the CLI turns it into one line and exit code 2. */
export class DatabaseOpenError extends Error {}
