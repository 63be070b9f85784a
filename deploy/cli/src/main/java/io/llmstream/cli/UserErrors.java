package io.llmstream.cli;

import io.llmstream.inference.model.ModelLoadException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns a user's mistake into one line on stderr naming the command, instead of a stack trace: bad arguments or
 * input (an {@link IllegalArgumentException}) exit with 2, as picocli's own usage errors do; a file, model or I/O
 * problem exits with 1. Anything else is a bug and keeps its stack trace.
 */
final class UserErrors implements IExecutionExceptionHandler {
    static final int BAD_INPUT = 2;
    static final int FAILED = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) throws Exception {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        int code;
        if (cause instanceof IllegalArgumentException) {
            code = BAD_INPUT;
        } else if (cause instanceof IOException || cause instanceof ModelLoadException) {
            code = FAILED;
        } else {
            throw e;
        }
        PrintWriter err = command.getErr();
        err.println(command.getCommandSpec().qualifiedName() + ": " + describe(cause));
        err.flush();
        return code;
    }

    /** The message, with what a file system exception leaves out (it carries only the path). */
    private static String describe(Throwable e) {
        if (e instanceof NoSuchFileException f) {
            return "no such file: " + f.getFile();
        }
        if (e instanceof FileAlreadyExistsException f) {
            return "exists already: " + f.getFile();
        }
        if (e instanceof AccessDeniedException f) {
            return "permission denied: " + f.getFile();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
