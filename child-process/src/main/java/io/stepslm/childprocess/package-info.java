/**
 * Child processes for tests: output read on a separate thread so that a timeout always fires, every wait bounded,
 * and the child destroyed when the wait runs out or the test ends. JDK only; used with test scope.
 */
package io.stepslm.childprocess;
