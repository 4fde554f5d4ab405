// Preloaded into a Node-RED process (NODE_OPTIONS=--require) to run it as where the
// optional native client could not be built: loading it fails as a missing module does.
"use strict";
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "@confluentinc/kafka-javascript") {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return load.call(this, request, ...rest);
};
