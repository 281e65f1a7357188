/** Pieces the store backends share: the watch of a revision log (SQLite, PostgreSQL, MySQL). */
package io.k3j.store.backend;
