using Microsoft.ML.CompactTransformer.Interop;

namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>
/// Runs a command body and turns the errors a user can fix (bad values, missing or unreadable files, a
/// checkpoint that does not fit) into one line on stderr and <see cref="ExitCodes.UsageError"/>. Anything
/// else is a bug and propagates with its stack trace.
/// </summary>
internal static class CommandRunner
{
    public static int Run(string command, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"cct {command}: error: {OneLine(e.Message)}");
            return ExitCodes.UsageError;
        }
    }

    private static bool IsUserError(Exception e) => e is CommandLineException
        or CheckpointMismatchException     // the checkpoint does not fit the architecture
        or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException            // not a checkpoint, an image that does not decode, an empty folder
        or UnauthorizedAccessException or IOException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
