/**
 * The {@code stepslm} command: one picocli class per subcommand, turning library errors into messages and exit
 * codes. This is the only module that sees every other one.
 */
package io.stepslm.cli;
