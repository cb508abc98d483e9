namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>A mistake in what the user asked for: reported as one line on stderr with exit code 2.</summary>
internal sealed class CommandLineException(string message) : Exception(message);
