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

    /// <summary>The root command with its subcommands; their actions write to the given writers.</summary>
    public static RootCommand Build(TextWriter output, TextWriter error) =>
        new("Compact Convolutional Transformers for ML.NET: train, compare attention variants, search, import PyTorch checkpoints, evaluate model zips.")
        {
            Train(output, error),
            Compare(output, error),
            Search(output, error),
            Import(output, error),
            Evaluate(output, error),
        };

    private static System.CommandLine.Command Train(TextWriter output, TextWriter error)
    {
        var data = new DataOptionSet();
        var recipe = new RecipeOptionSet(withAttention: true);
        var outputFolder = new Option<string>("--output", "-o") { Description = "Output folder: model.zip, history.csv, history.json, learning-curve.png.", Required = true, HelpName = "dir" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint to OUTDIR/checkpoints every N epochs (and after the last)." };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue an interrupted run from a checkpoint folder, or an earlier OUTDIR (its checkpoints/); give that run's flags.",
            HelpName = "checkpoint-or-outdir",
        };
        var logEvery = new Option<int>("--log-every")
        {
            Description = "When output is redirected (a log), also write a progress line every N steps of an epoch (default 0: epoch lines only).",
            HelpName = "steps",
        };
        var command = new System.CommandLine.Command("train", "Train a model on an image tree or IDX files; write an ML.NET model zip, the history and a learning-curve plot.");
        data.AddTo(command);
        recipe.AddTo(command);
        command.Options.Add(checkpointEvery);
        command.Options.Add(resume);
        command.Options.Add(logEvery);
        command.Options.Add(outputFolder);
        command.SetAction(p => TrainCommand.Run(new TrainArguments
        {
            Data = data.Bind(p),
            Recipe = recipe.Bind(p),
            Output = p.GetRequiredValue(outputFolder),
            CheckpointEvery = p.GetValue(checkpointEvery),
            Resume = p.GetValue(resume),
            LogEvery = p.GetValue(logEvery),
        }, output, error));
        return command;
    }

    private static System.CommandLine.Command Compare(TextWriter output, TextWriter error)
    {
        var data = new DataOptionSet();
        var recipe = new RecipeOptionSet(withAttention: false);
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated NAME[:SCOPE][@ALPHA], e.g. standard,softmax-values:pooling,remix:both@0.5.",
            HelpName = "list",
            Required = true,
        };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per variant: --seed, +1, +2... (default 1; 3 or more for a test).", DefaultValueFactory = _ => 1 };
        var outputFolder = new Option<string>("--output", "-o") { Description = "Output folder: runs/, runs.csv, summary.md, curves.png; rerun to resume.", Required = true, HelpName = "dir" };
        var command = new System.CommandLine.Command("compare", "Train attention variants x seeds under one recipe; report mean ± std, Welch's t-test and curves.");
        data.AddTo(command);
        command.Options.Add(variants);
        command.Options.Add(seeds);
        recipe.AddTo(command);
        command.Options.Add(outputFolder);
        command.SetAction(p => CompareCommand.Run(new CompareArguments
        {
            Data = data.Bind(p),
            Recipe = recipe.Bind(p),
            Variants = p.GetRequiredValue(variants),
            Seeds = p.GetValue(seeds),
            Output = p.GetRequiredValue(outputFolder),
        }, output, error));
        return command;
    }

    private static System.CommandLine.Command Search(TextWriter output, TextWriter error)
    {
        var data = new DataOptionSet();
        var recipe = new RecipeOptionSet(withAttention: false);
        var timeBudget = new Option<int>("--time-budget") { Description = "Seconds after which no trial starts and the running one stops.", HelpName = "seconds", Required = true };
        var tuner = new Option<string>("--tuner")
        {
            Description = "asha: successive halving over epochs (rungs at 1/9, 1/3 and all of --epochs); random: every trial --epochs epochs.",
            HelpName = string.Join("|", SearchCommand.Tuners),
            DefaultValueFactory = _ => "asha",
        };
        var maxTrials = new Option<int?>("--max-trials") { Description = "Run at most this many trials (a promotion counts as one)." };
        var outputFolder = new Option<string>("--output", "-o") { Description = "Output folder: trials.csv, best-model.zip, search-progress.png, trial files; rerun to resume.", Required = true, HelpName = "dir" };
        var command = new System.CommandLine.Command("search", "Search attention variant, alpha, learning rate, weight decay and model size within a time budget.");
        data.AddTo(command);
        command.Options.Add(timeBudget);
        command.Options.Add(tuner);
        command.Options.Add(maxTrials);
        recipe.AddTo(command);
        command.Options.Add(outputFolder);
        command.SetAction(p => SearchCommand.Run(new SearchArguments
        {
            Data = data.Bind(p),
            Recipe = recipe.Bind(p),
            TimeBudget = p.GetValue(timeBudget),
            Tuner = p.GetValue(tuner)!,
            MaxTrials = p.GetValue(maxTrials),
            Output = p.GetRequiredValue(outputFolder),
        }, output, error));
        return command;
    }

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
    internal static T[]? NullIfEmpty<T>(T[]? values) => values is { Length: > 0 } ? values : null;

    internal static T? ParseName<T>(ArgumentResult result, IReadOnlyDictionary<string, T> names, string option)
    {
        string value = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (OptionNames.TryParse(names, option, value, out var parsed, out var message))
            return parsed;
        result.AddError(message!);
        return default;
    }

    /// <summary>Numbers separated by spaces (several tokens) or commas, invariant culture.</summary>
    internal static Option<double[]> NumberList(string name, string description) => new(name)
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
