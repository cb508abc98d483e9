// The measured experiments behind docs/: the issue's Fashion-MNIST recipe over seeds, and the attention study.
//   dotnet run --project tools/Experiments -c Release -- fashion-mnist   --idx DIR --seeds 0,1 [--device cuda] --output OUT
//   dotnet run --project tools/Experiments -c Release -- attention-study --idx DIR --seeds 0,1,2 --variants LIST [--epochs 5] [--time-limit S] --output OUT
// Both use one recipe: cct_2_3x2_32 at 28x28x1, 5 epochs, batch 128, AdamW lr 1e-3 wd 0.05, label smoothing 0.1,
// 1 warmup epoch from lr/10 then cosine to 1e-5 per step, crop padding 2, no flip, mean 0.2860 std 0.3530.
using System.Diagnostics;
using System.Globalization;
using Experiments;
using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Study;
using Microsoft.ML.CompactTransformer.Training;

var arguments = ExperimentArguments.Parse(args);
if (arguments.Experiment == "replot")
{
    Replot(arguments);
    return;
}
var train = IdxDatasetReader.ReadSplit(arguments.Idx, "train", IdxDatasetReader.FashionMnistClassNames);
var test = IdxDatasetReader.ReadSplit(arguments.Idx, "t10k", IdxDatasetReader.FashionMnistClassNames);
Console.WriteLine($"data: {train.Count} train / {test.Count} test images, {train.Channels}x{train.Height}x{train.Width}; device {arguments.Device}");
Directory.CreateDirectory(arguments.Output);

var recipe = new CompactTransformerOptions
{
    Architecture = "cct_2_3x2_32",
    Epochs = arguments.Epochs,
    BatchSize = 128,
    LearningRate = 1e-3,
    WeightDecay = 0.05,
    LabelSmoothing = 0.1,
    WarmupEpochs = 1,
    WarmupStartLearningRate = 1e-4,
    MinLearningRate = 1e-5,
    RandomCropPadding = 2,
    HorizontalFlip = false,
    PixelScale = 1f / 255,
    Mean = new[] { 0.2860f },
    Std = new[] { 0.3530f },
    Device = arguments.Device,
    EarlyStoppingMetric = EarlyStoppingMetric.None, // report the final epoch, as the original's script does
    Channels = 1,
    ImageHeight = 28,
    ImageWidth = 28,
};

using var cancel = new CancellationTokenSource();
if (arguments.TimeLimitSeconds > 0)
    cancel.CancelAfter(TimeSpan.FromSeconds(arguments.TimeLimitSeconds));

switch (arguments.Experiment)
{

    case "fashion-mnist":
        RunRecipe(recipe, train, test, arguments);
        break;
    case "attention-study":
        RunStudy(recipe, train, test, arguments, cancel.Token);
        break;
    default:
        throw new ArgumentException($"Unknown experiment '{arguments.Experiment}'; expected fashion-mnist or attention-study.");
}

static void RunRecipe(CompactTransformerOptions recipe, ImageDataset train, ImageDataset test, ExperimentArguments arguments)
{
    var ml = new MLContext(seed: 0);
    var trainView = ImageDatasetDataView.ToDataView(ml, train);
    var testView = ImageDatasetDataView.ToDataView(ml, test);
    var finals = new List<double>();
    foreach (int seed in arguments.Seeds)
    {
        recipe.Seed = seed;
        recipe.MetricsCallback = m => Console.WriteLine(
            $"seed {seed} epoch {m.Epoch}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:F4}  test loss {m.ValidationLoss:F4} top-1 {m.ValidationTop1:F4}  lr {m.LearningRate:E2}  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s");
        var clock = Stopwatch.StartNew();
        using var model = new CompactTransformerEstimator(recipe).Fit(trainView, testView);
        model.History.SaveCsv(Path.Combine(arguments.Output, $"fashion-mnist-seed{seed}.history.csv"));
        LearningCurvePlotFile(model.History, Path.Combine(arguments.Output, $"fashion-mnist-seed{seed}.png"), $"cct_2_3x2_32 on Fashion-MNIST, seed {seed}");
        double final = model.History.Epochs[^1].ValidationTop1 ?? double.NaN;
        finals.Add(final);
        Console.WriteLine($"RESULT fashion-mnist seed={seed} final_test_top1={final:F4} seconds={clock.Elapsed.TotalSeconds:F0}");
    }
    Console.WriteLine($"RESULT fashion-mnist mean_final_test_top1={finals.Average():F4} over seeds {string.Join(",", arguments.Seeds)}");
}

static void RunStudy(CompactTransformerOptions recipe, ImageDataset train, ImageDataset test, ExperimentArguments arguments, CancellationToken cancel)
{
    var variants = VariantSpec.ParseList(arguments.Variants);
    var comparison = new AttentionComparison(recipe, variants, arguments.Seeds, arguments.Output)
    {
        Title = "Attention variants, cct_2_3x2_32 on Fashion-MNIST",
        Progress = new Reporter(),
    };
    try
    {
        var result = comparison.Run(train, test, cancel);
        Console.WriteLine(File.ReadAllText(Path.Combine(arguments.Output, "summary.md")));
    }
    catch (OperationCanceledException)
    {
        // Out of time: report the runs that finished.
        var runs = AttentionComparison.LoadRuns(arguments.Output);
        Console.WriteLine($"time limit reached after {runs.Count} runs; reporting those");
        ComparisonReport.Write(arguments.Output, runs, variants.Where(v => runs.Any(r => r.Variant == v)).ToArray(), "Attention variants (partial), cct_2_3x2_32 on Fashion-MNIST");
        Console.WriteLine(File.ReadAllText(Path.Combine(arguments.Output, "summary.md")));
    }
}

// Rebuilds the report and plots from the CSV files of a finished run (e.g. one made on a machine without fonts):
//   Experiments replot --idx RESULTS --output OUT   (RESULTS holds study/runs.csv and fm/*.history.csv)
static void Replot(ExperimentArguments arguments)
{
    Directory.CreateDirectory(arguments.Output);
    foreach (var file in Directory.GetFiles(Path.Combine(arguments.Idx, "fm"), "*.history.csv"))
    {
        string name = Path.GetFileName(file).Replace(".history.csv", "");
        LearningCurvePlotFile(TrainingHistory.LoadCsv(file), Path.Combine(arguments.Output, name + ".png"),
            $"cct_2_3x2_32 on Fashion-MNIST, {name.Replace("fashion-mnist-", "")}");
    }
    var variants = VariantSpec.ParseList(arguments.Variants);
    var lines = File.ReadAllLines(Path.Combine(arguments.Idx, "study", "runs.csv"));
    var header = lines[0].Split(',');
    int Column(string name) => Array.IndexOf(header, name);
    double Number(string[] f, string name) => double.Parse(f[Column(name)], CultureInfo.InvariantCulture);
    var runs = lines.Skip(1).Select(l => l.Split(','))
        .GroupBy(f => (Variant: variants.Single(v => v.ToString() == f[Column("variant")]), Seed: int.Parse(f[Column("seed")], CultureInfo.InvariantCulture)))
        .Select(g => new ComparisonRun(g.Key.Variant, g.Key.Seed, new TrainingHistory(g.Select(f => new EpochMetrics
        {
            Epoch = (int)Number(f, "epoch"),
            TrainLoss = Number(f, "train_loss"),
            TrainAccuracy = Number(f, "train_accuracy"),
            ValidationLoss = Number(f, "val_loss"),
            ValidationTop1 = Number(f, "val_accuracy"),
            ValidationTop5 = Number(f, "val_top5"),
            LearningRate = Number(f, "lr"),
            Alpha = Number(f, "alpha"),
            Beta = Number(f, "beta"),
            Seconds = Number(f, "seconds"),
        }).OrderBy(m => m.Epoch).ToList())))
        .ToList();
    ComparisonReport.Write(arguments.Output, runs, variants, "Attention variants, cct_2_3x2_32 on Fashion-MNIST");
    Console.WriteLine(File.ReadAllText(Path.Combine(arguments.Output, "summary.md")));
}

static void LearningCurvePlotFile(TrainingHistory history, string path, string title) =>
    Microsoft.ML.CompactTransformer.Plotting.LearningCurvePlot.Save(history, path, title);

namespace Experiments
{
    internal sealed class Reporter : IProgress<ComparisonProgress>
    {
        public void Report(ComparisonProgress p)
        {
            if (p.Epoch is { } m)
                Console.WriteLine($"[{p.Run}/{p.Runs}] {p.Variant} seed {p.Seed} epoch {m.Epoch}: test top-1 {m.ValidationTop1:F4} loss {m.ValidationLoss:F4} ({m.Seconds:F1} s)");
            else
                Console.WriteLine($"[{p.Run}/{p.Runs}] {p.Variant} seed {p.Seed}: {p.State}");
        }
    }

    internal sealed record ExperimentArguments(string Experiment, string Idx, int[] Seeds, string Variants, int Epochs, TrainingDevice Device,
        int TimeLimitSeconds, string Output)
    {
        public static ExperimentArguments Parse(string[] args)
        {
            if (args.Length == 0)
                throw new ArgumentException("usage: Experiments fashion-mnist|attention-study --idx DIR --output OUT [--seeds 0,1] [--variants LIST] [--epochs 5] [--device auto|cpu|cuda] [--time-limit S]");
            var result = new ExperimentArguments(args[0], "", new[] { 0, 1 },
                "standard,softmax-values:pooling,softmax-values:self-attention,remix:both@0.5,additive:pooling,subtractive:pooling",
                5, TrainingDevice.Auto, 0, "");
            for (int i = 1; i + 1 < args.Length; i += 2)
            {
                string value = args[i + 1];
                result = args[i] switch
                {
                    "--idx" => result with { Idx = value },
                    "--output" => result with { Output = value },
                    "--seeds" => result with { Seeds = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                    "--variants" => result with { Variants = value },
                    "--epochs" => result with { Epochs = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--device" => result with { Device = Enum.Parse<TrainingDevice>(value, ignoreCase: true) },
                    "--time-limit" => result with { TimeLimitSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
                };
            }
            if (result.Idx.Length == 0 || result.Output.Length == 0)
                throw new ArgumentException("--idx and --output are required.");
            return result;
        }
    }
}
