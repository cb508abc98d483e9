using Microsoft.ML.CompactTransformer.Cli;

return CctCommandLine.Invoke(args, Console.Out, Console.Error);
