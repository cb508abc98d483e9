namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>The process exit codes of <c>cct</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure (a bug or a broken installation); the exception is printed in full.</summary>
    public const int Failure = 1;

    /// <summary>The arguments or the input files are wrong; a one-line message says which.</summary>
    public const int UsageError = 2;
}
