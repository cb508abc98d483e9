using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.ML.CompactTransformer.Cli.Commands;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>
/// The System.CommandLine layer of <c>cct</c>: option definitions and their binding to the argument records.
/// The work is done by the commands' <c>Run</c> methods, which tests can also call directly.
/// </summary>
internal static class CctCommandLine
{
    /// <summary>Parses <paramref name="args"/> and runs the command; a parse error is one line on stderr and exit code 2.</summary>
    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            string command = parse.CommandResult.Command == root ? "cct" : $"cct {parse.CommandResult.Command.Name}";
            // An unrecognised word explains more than the "required command" error it causes.
            var first = parse.Errors.FirstOrDefault(e => parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal)))
                ?? parse.Errors[0];
            error.WriteLine($"{command}: error: {first.Message} (see '{command} --help')");
            return ExitCodes.UsageError;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>The root command with <c>import</c> and <c>evaluate</c>; their actions write to the given writers.</summary>
    public static RootCommand Build(TextWriter output, TextWriter error) =>
        new("Compact Convolutional Transformers for ML.NET: import PyTorch checkpoints, evaluate model zips.")
        {
            Import(output, error),
            Evaluate(output, error),
        };

    private static System.CommandLine.Command Import(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "PyTorch state_dict (.pt/.pth) of the original implementation.", Required = true };
        var architecture = new Option<string>("--architecture")
        {
            Description = $"Preset: {string.Join(", ", CctPresets.Names)}.",
            HelpName = "name",
            Required = true,
        };
        var classes = new Option<int>("--classes") { Description = "Number of classes of the checkpoint's head.", Required = true };
        var imageSize = new Option<int?>("--image-size") { Description = "Square input size in pixels (default: the preset's); the positional embedding is resized to it." };
        var channels = new Option<int?>("--channels") { Description = "Input channels (default: the preset's, 3)." };
        var attention = new Option<AttentionVariant>("--attention")
        {
            Description = "Attention variant (default: standard).",
            HelpName = string.Join("|", OptionNames.Attention.Keys),
            DefaultValueFactory = _ => AttentionVariant.Standard,
            CustomParser = r => ParseName(r, OptionNames.Attention, "--attention"),
        };
        var alpha = new Option<double?>("--alpha") { Description = "Weight of softmax(V), for remix, additive, subtractive and custom." };
        var beta = new Option<double?>("--beta") { Description = "Weight of V, for custom." };
        var scope = new Option<AttentionScope?>("--scope")
        {
            Description = "Where the variant applies (default: pooling).",
            HelpName = string.Join("|", OptionNames.Scope.Keys),
            CustomParser = r => ParseName(r, OptionNames.Scope, "--scope"),
        };
        var mean = NumberList("--mean", "Mean of the scaled input: one value, or one per channel (default 0).");
        var std = NumberList("--std", "Standard deviation of the scaled input: one value, or one per channel (default 1).");
        var pixelScale = new Option<double>("--pixel-scale") { Description = "Factor applied to the input first (default 1). cct evaluate feeds pixels as 0..255: 0.00392156862745098 turns them into 0..1.", DefaultValueFactory = _ => 1.0 };
        var classNames = new Option<string[]>("--class-names")
        {
            Description = "Class names in class-index order, comma-separated (default: 0, 1, ...).",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',')).Select(n => n.Trim()).ToArray(),
        };
        var outputPath = new Option<string>("--output", "-o") { Description = "Where to write the ML.NET model zip.", Required = true };

        var command = new System.CommandLine.Command("import", "Import a PyTorch checkpoint of the original CCT implementation as an ML.NET model zip.")
        {
            checkpoint, architecture, classes, imageSize, channels, attention, alpha, beta, scope, pixelScale, mean, std, classNames, outputPath,
        };
        command.SetAction(p => ImportCommand.Run(new ImportArguments
        {
            Checkpoint = p.GetRequiredValue(checkpoint),
            Architecture = p.GetRequiredValue(architecture),
            Classes = p.GetValue(classes),
            ImageSize = p.GetValue(imageSize),
            Channels = p.GetValue(channels),
            Attention = p.GetValue(attention),
            Alpha = p.GetValue(alpha),
            Beta = p.GetValue(beta),
            Scope = p.GetValue(scope),
            PixelScale = p.GetValue(pixelScale),
            Mean = NullIfEmpty(p.GetValue(mean)),
            Std = NullIfEmpty(p.GetValue(std)),
            ClassNames = NullIfEmpty(p.GetValue(classNames)),
            Output = p.GetRequiredValue(outputPath),
        }, output, error));
        return command;
    }

    private static System.CommandLine.Command Evaluate(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "ML.NET model zip (e.g. written by cct import).", Required = true };
        var data = new Option<string>("--data") { Description = "Folder-per-class image tree; folder names must be class names of the model. Pixels go in as 0..255, planar CHW.", Required = true };
        var imageSize = new Option<int?>("--image-size") { Description = "Square image size (default: inferred from the model's input size)." };
        var channels = new Option<int?>("--channels") { Description = "1 (grayscale) or 3 (RGB) (default: inferred from the model's input size)." };
        var command = new System.CommandLine.Command("evaluate", "Score a folder-per-class image tree with a model zip; print accuracy, log-loss and the confusion table.")
        {
            model, data, imageSize, channels,
        };
        command.SetAction(p => EvaluateCommand.Run(new EvaluateArguments
        {
            Model = p.GetRequiredValue(model),
            Data = p.GetRequiredValue(data),
            ImageSize = p.GetValue(imageSize),
            Channels = p.GetValue(channels),
        }, output, error));
        return command;
    }

    // An option that was not given parses to an empty array.
    private static T[]? NullIfEmpty<T>(T[]? values) => values is { Length: > 0 } ? values : null;

    private static T? ParseName<T>(ArgumentResult result, IReadOnlyDictionary<string, T> names, string option)
    {
        string value = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (OptionNames.TryParse(names, option, value, out var parsed, out var message))
            return parsed;
        result.AddError(message!);
        return default;
    }

    /// <summary>Numbers separated by spaces (several tokens) or commas, invariant culture.</summary>
    private static Option<double[]> NumberList(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        CustomParser = r =>
        {
            var values = new List<double>();
            foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)))
            {
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    r.AddError($"'{part}' is not a number ({name}).");
                    return [];
                }
                values.Add(v);
            }
            return values.ToArray();
        },
    };
}
