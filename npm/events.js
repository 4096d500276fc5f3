// The e2b SDK's FilesystemEventType, which the original client re-exports: the `type` of the
// changes `watchDir` reports (the server's own words for them). A frozen object, as a compiled
// TypeScript enum of strings is; typed as that enum in the declarations.
export const FilesystemEventType = Object.freeze({
  CHMOD: "chmod",
  CREATE: "create",
  REMOVE: "remove",
  RENAME: "rename",
  WRITE: "write",
});
