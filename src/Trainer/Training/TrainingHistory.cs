using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The learning curve of a training run: one <see cref="EpochMetrics"/> per completed epoch, in order.
/// Saves to and loads from CSV (a header row <c>epoch,steps,train_loss,train_accuracy,val_loss,val_accuracy,val_top5,
/// lr,alpha,beta,seconds,images_per_second</c>, then one row per epoch, invariant culture, accuracies as fractions,
/// empty cells for missing validation) and JSON; numbers round-trip exactly.
/// </summary>
public sealed class TrainingHistory
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // A diverged run has NaN losses; plain JSON numbers cannot say so.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    // The CSV columns, in file order: header (snake_case, the names scripts and plotting tools expect), the header
    // this class wrote before (still read, so histories saved by earlier versions load), writer, reader.
    private static readonly (string Name, string Legacy, Func<EpochMetrics, string> Write, Func<EpochMetrics, string, EpochMetrics> Read)[] Columns =
    [
        ("epoch", nameof(EpochMetrics.Epoch), m => Text(m.Epoch), (m, s) => m with { Epoch = int.Parse(s, CultureInfo.InvariantCulture) }),
        ("steps", nameof(EpochMetrics.Steps), m => Text(m.Steps), (m, s) => m with { Steps = long.Parse(s, CultureInfo.InvariantCulture) }),
        ("train_loss", nameof(EpochMetrics.TrainLoss), m => Text(m.TrainLoss), (m, s) => m with { TrainLoss = Number(s) }),
        ("train_accuracy", nameof(EpochMetrics.TrainAccuracy), m => Text(m.TrainAccuracy), (m, s) => m with { TrainAccuracy = Number(s) }),
        ("val_loss", nameof(EpochMetrics.ValidationLoss), m => Text(m.ValidationLoss), (m, s) => m with { ValidationLoss = Optional(s) }),
        ("val_accuracy", nameof(EpochMetrics.ValidationTop1), m => Text(m.ValidationTop1), (m, s) => m with { ValidationTop1 = Optional(s) }),
        ("val_top5", nameof(EpochMetrics.ValidationTop5), m => Text(m.ValidationTop5), (m, s) => m with { ValidationTop5 = Optional(s) }),
        ("lr", nameof(EpochMetrics.LearningRate), m => Text(m.LearningRate), (m, s) => m with { LearningRate = Number(s) }),
        ("alpha", nameof(EpochMetrics.Alpha), m => Text(m.Alpha), (m, s) => m with { Alpha = Number(s) }),
        ("beta", nameof(EpochMetrics.Beta), m => Text(m.Beta), (m, s) => m with { Beta = Number(s) }),
        ("seconds", nameof(EpochMetrics.Seconds), m => Text(m.Seconds), (m, s) => m with { Seconds = Number(s) }),
        ("images_per_second", nameof(EpochMetrics.ImagesPerSecond), m => Text(m.ImagesPerSecond), (m, s) => m with { ImagesPerSecond = Number(s) }),
    ];

    /// <summary>
    /// A per-step mixing change smaller than this (in alpha or beta) since the last kept point is not kept, so that a
    /// ramp over every step of a long run stays a few thousand points: a step plot of the kept points is within this of the truth.
    /// </summary>
    public const double MixingResolution = 1e-3;

    private readonly List<EpochMetrics> epochs;
    private readonly List<MixingPoint> mixingSteps;

    /// <summary>Creates an empty history.</summary>
    public TrainingHistory()
    {
        epochs = [];
        mixingSteps = [];
    }

    /// <summary>Creates a history holding <paramref name="epochs"/>, in order, and optionally a per-step mixing trace.</summary>
    [JsonConstructor]
    public TrainingHistory(IReadOnlyList<EpochMetrics> epochs, IReadOnlyList<MixingPoint>? mixingSteps = null)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        this.epochs = epochs.ToList();
        this.mixingSteps = mixingSteps?.ToList() ?? [];
    }

    /// <summary>The recorded epochs, first to last.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => epochs;

    /// <summary>
    /// Alpha and beta per optimisation step, as the points where they changed by at least <see cref="MixingResolution"/>
    /// (each holds until the next); empty when the loop recorded none. Saved in JSON, not in CSV (one row per epoch).
    /// </summary>
    public IReadOnlyList<MixingPoint> MixingSteps => mixingSteps;

    /// <summary>Notes the mixing weights of a step; keeps it only when it moved by <see cref="MixingResolution"/> or more since the last kept point.</summary>
    public void RecordMixing(long step, double alpha, double beta)
    {
        if (mixingSteps.Count > 0)
        {
            var last = mixingSteps[^1];
            if (Math.Abs(alpha - last.Alpha) < MixingResolution && Math.Abs(beta - last.Beta) < MixingResolution)
                return;
        }
        mixingSteps.Add(new MixingPoint(step, alpha, beta));
    }

    /// <summary>Appends the metrics of a completed epoch.</summary>
    public void Add(EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        epochs.Add(metrics);
    }

    /// <summary>The history as CSV text: a header row, then one row per epoch.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', Columns.Select(c => c.Name)).Append('\n');
        foreach (var m in epochs)
            text.AppendJoin(',', Columns.Select(c => c.Write(m))).Append('\n');
        return text.ToString();
    }

    /// <summary>Reads CSV text that <see cref="ToCsv"/> wrote; columns are matched by header name, in any order.</summary>
    /// <exception cref="FormatException">A column is missing or a cell is not a number.</exception>
    public static TrainingHistory FromCsv(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var lines = csv.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0)
            throw new FormatException("The CSV has no header row.");
        var header = lines[0].Split(',');
        var positions = Columns.Select(c =>
        {
            int at = Array.IndexOf(header, c.Name);
            if (at < 0)
                at = Array.IndexOf(header, c.Legacy);
            return at >= 0 ? at : throw new FormatException($"The CSV has no '{c.Name}' column.");
        }).ToArray();
        var history = new TrainingHistory();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length)
                throw new FormatException($"Row '{line}' has {cells.Length} cells; the header has {header.Length}.");
            var m = new EpochMetrics();
            for (int i = 0; i < Columns.Length; i++)
                m = Columns[i].Read(m, cells[positions[i]]);
            history.Add(m);
        }
        return history;
    }

    /// <summary>The history as indented JSON: <c>{ "epochs": [ { "epoch": 1, ... }, ... ] }</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads JSON that <see cref="ToJson"/> wrote.</summary>
    public static TrainingHistory FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<TrainingHistory>(json, JsonOptions)
            ?? throw new FormatException("The JSON holds no training history.");
    }

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/> (through a temporary file, so a reader never sees half a file).</summary>
    public void SaveCsv(string path) => WriteAtomically(path, ToCsv());

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (through a temporary file, so a reader never sees half a file).</summary>
    public void SaveJson(string path) => WriteAtomically(path, ToJson());

    /// <summary>Reads a file <see cref="SaveCsv"/> wrote.</summary>
    public static TrainingHistory LoadCsv(string path) => FromCsv(File.ReadAllText(path));

    /// <summary>Reads a file <see cref="SaveJson"/> wrote.</summary>
    public static TrainingHistory LoadJson(string path) => FromJson(File.ReadAllText(path));

    private static void WriteAtomically(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllText(path, text);
    }

    // Shortest text that parses back to the same double ("R" semantics are the default since .NET Core 3.0).
    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double? value) => value is { } v ? Text(v) : "";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static double? Optional(string text) => text.Length == 0 ? null : Number(text);
}
