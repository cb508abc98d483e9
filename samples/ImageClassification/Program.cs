// Trains a Compact Convolutional Transformer on the embedded Fashion-MNIST subset (1,000 training and 500 test
// PNGs, 28x28 grayscale), evaluates it, saves it as an ordinary ML.NET model and scores with the reloaded zip.
//   dotnet run --project samples/ImageClassification -c Release [-- --epochs N --architecture NAME --attention VARIANT]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

var arguments = Arguments.Parse(args);
string dataFolder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist-mini"));
var mlContext = new MLContext(seed: 1);

// labels.csv: path,split,label,label_name,... (the folder order is not the label order, so take names from the file)
var rows = File.ReadLines(Path.Combine(dataFolder, "labels.csv")).Skip(1)
    .Select(line => line.Split(','))
    .Select(f => new ImageRow { ImagePath = f[0], Split = f[1], LabelIndex = int.Parse(f[2], CultureInfo.InvariantCulture), Label = f[3] })
    .ToArray();
var classNames = rows.OrderBy(r => r.LabelIndex).Select(r => r.Label).Distinct().ToArray();
var train = mlContext.Data.LoadFromEnumerable(rows.Where(r => r.Split == "train"));
var test = mlContext.Data.LoadFromEnumerable(rows.Where(r => r.Split == "test"));

// Image preparation with ML.NET's own transforms: key the label, load, resize, extract planar pixels (gray: one channel).
var preparation = mlContext.Transforms.Conversion.MapValueToKey("Label", keyData: mlContext.Data.LoadFromEnumerable(classNames.Select(c => new ClassName { Label = c })))
    .Append(mlContext.Transforms.LoadImages("Image", dataFolder, nameof(ImageRow.ImagePath)))
    .Append(mlContext.Transforms.ResizeImages("Image", 28, 28))
    .Append(mlContext.Transforms.ExtractPixels("Features", "Image", ImagePixelExtractingEstimator.ColorBits.Red))
    .Fit(train);

var progress = new BatchProgress();
var trainer = mlContext.MulticlassClassification.Trainers.CompactTransformer(new CompactTransformerOptions
{
    Architecture = arguments.Architecture,      // the encoder of the preset; image size, channels and classes come from the data
    Epochs = arguments.Epochs,
    BatchSize = 64,
    WarmupEpochs = 2,
    RandomCropPadding = 2,
    Attention = arguments.Attention,
    Seed = 1,
    EarlyStoppingMetric = EarlyStoppingMetric.None, // the test split is only watched here, not used to pick an epoch
    // A live batch line with an ETA on a terminal; the per-epoch lines below either way.
    StepCallback = Console.IsOutputRedirected ? null : progress.Step,
    StepCallbackEvery = 2,
    MetricsCallback = m =>
    {
        progress.EndLine();
        Console.WriteLine(
            $"epoch {m.Epoch,3}  train loss {m.TrainLoss:F3} acc {m.TrainAccuracy:P1}  test loss {m.ValidationLoss:F3} top-1 {m.ValidationTop1:P1}  " +
            $"lr {m.LearningRate:E2}  {m.ImagesPerSecond:F0} img/s");
    },
});

Console.WriteLine($"Training {arguments.Architecture} ({arguments.Attention} attention) on {rows.Count(r => r.Split == "train")} images for {arguments.Epochs} epochs...");
var clock = Stopwatch.StartNew();
var cct = trainer.Fit(preparation.Transform(train), preparation.Transform(test));   // the test split is the validation set
var model = preparation.Append(cct);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F0} s.");

var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"Test: micro accuracy {metrics.MicroAccuracy:P2}, macro accuracy {metrics.MacroAccuracy:P2}, log-loss {metrics.LogLoss:F3}");
Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

string modelPath = Path.GetFullPath("cct-fashion-mnist.zip");
mlContext.Model.Save(model, train.Schema, modelPath);
cct.SaveOnnx(Path.ChangeExtension(modelPath, ".onnx"));
cct.History.SaveCsv(Path.ChangeExtension(modelPath, ".history.csv"));
Console.WriteLine($"Saved {modelPath} (plus the bare network as .onnx and the learning curve as .history.csv).");

// The zip holds only stock ML.NET transforms: it loads and scores without this library.
var loaded = mlContext.Model.Load(modelPath, out _);
var keyToName = mlContext.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel").Fit(loaded.Transform(test));
var engine = mlContext.Model.CreatePredictionEngine<ImageRow, Prediction>(new TransformerChain<ITransformer>(loaded, keyToName));
foreach (var row in rows.Where(r => r.Split == "test").Take(5))
{
    var p = engine.Predict(row);
    Console.WriteLine($"{row.ImagePath,-28} true {row.Label,-12} predicted {p.PredictedClass,-12} ({p.Score.Max():P0})");
}

/// <summary>One console line, rewritten in place: epoch, batch bar, running loss and the time left for the run.</summary>
internal sealed class BatchProgress
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private bool open;

    public void Step(StepProgress p)
    {
        long done = (long)(p.Epoch - 1) * p.StepsPerEpoch + p.Step, total = (long)p.Epochs * p.StepsPerEpoch;
        var left = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (total - done));
        int filled = 20 * p.Step / p.StepsPerEpoch;
        Console.Write($"\repoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', 20 - filled)}] batch {p.Step}/{p.StepsPerEpoch}  loss {p.RunningLoss:F3}  ETA {left:mm\\:ss}   ");
        open = true;
    }

    public void EndLine()
    {
        if (open)
            Console.Write("\r" + new string(' ', 90) + "\r");
        open = false;
    }
}

internal sealed class ImageRow
{
    public string ImagePath { get; set; } = "";
    public string Split { get; set; } = "";
    public int LabelIndex { get; set; }
    public string Label { get; set; } = "";
}

internal sealed class ClassName
{
    public string Label { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedClass { get; set; } = "";
    public float[] Score { get; set; } = [];
}

internal sealed record Arguments(int Epochs, string Architecture, AttentionVariant Attention)
{
    public static Arguments Parse(string[] args)
    {
        var result = new Arguments(15, "cct_2_3x2_32", AttentionVariant.Standard);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            result = args[i] switch
            {
                "--epochs" => result with { Epochs = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--architecture" => result with { Architecture = args[i + 1] },
                "--attention" => result with { Attention = Enum.Parse<AttentionVariant>(args[i + 1], ignoreCase: true) },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'; expected --epochs N, --architecture NAME or --attention VARIANT."),
            };
        }
        return result;
    }
}
