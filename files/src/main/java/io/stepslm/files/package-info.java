/**
 * The file primitives every module shares: writing a file or replacing a folder so that a crash, {@code kill -9} or
 * a full disk leaves either the old or the new content, never half of it, and deleting a folder tree. JDK only.
 */
package io.stepslm.files;
