'use strict';
/** The vendors each catalog version lists: one codebase, the version picked by APP_VERSION. */
const CATALOGS = Object.freeze({
  1: Object.freeze(['ABC.com']),
  2: Object.freeze(['ABC.com', 'XYZ.com']),
});

const VERSIONS = Object.freeze(Object.keys(CATALOGS));

module.exports = { CATALOGS, VERSIONS };
