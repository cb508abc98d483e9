using System.Globalization;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// A search's folder: <c>trials.csv</c> (one row per finished trial, rewritten atomically after each), each trial's learning
/// curve as <c>trial-NNNN.history.csv</c> and, for the trainer, its model as <c>trial-NNNN.zip</c>. Paths in the CSV are
/// relative to the folder, so the folder can be moved.
/// </summary>
internal sealed class SearchCheckpoint
{
    public const string FileName = "trials.csv";
    private const string ParameterPrefix = "param:";

    // The fixed columns, in file order: header, writer, reader.
    private static readonly (string Name, Func<TrialResult, string> Write, Func<TrialResult, string, TrialResult> Read)[] Columns =
    [
        ("TrialId", r => Text(r.TrialId), (r, s) => r with { TrialId = Int(s) }),
        ("ConfigurationId", r => Text(r.ConfigurationId), (r, s) => r with { ConfigurationId = Int(s) }),
        ("ParentTrialId", r => r.ParentTrialId is { } p ? Text(p) : "", (r, s) => r with { ParentTrialId = s.Length == 0 ? null : Int(s) }),
        ("Rung", r => Text(r.Rung), (r, s) => r with { Rung = Int(s) }),
        ("Epochs", r => Text(r.Epochs), (r, s) => r with { Epochs = Int(s) }),
        ("EpochsTrained", r => Text(r.EpochsTrained), (r, s) => r with { EpochsTrained = Int(s) }),
        ("Status", r => r.Status.ToString(), (r, s) => r with { Status = Enum.Parse<TrialStatus>(s) }),
        ("Metric", r => Text(r.Metric), (r, s) => r with { Metric = Number(s) }),
        ("Score", r => Text(r.Score), (r, s) => r with { Score = Number(s) }),
        ("Seconds", r => Text(r.Seconds), (r, s) => r with { Seconds = Number(s) }),
        ("Model", r => r.ModelPath is null ? "" : Path.GetFileName(r.ModelPath), (r, s) => r with { ModelPath = s.Length == 0 ? null : s }),
        ("Error", r => r.Error ?? "", (r, s) => r with { Error = s.Length == 0 ? null : s }),
    ];

    private readonly SearchSpaceDefinition space;

    public SearchCheckpoint(string folder, SearchSpaceDefinition space)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        this.space = space;
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string CsvPath => Path.Combine(Folder, FileName);

    public string ModelPath(int trialId) => Path.Combine(Folder, $"trial-{trialId:D4}.zip");

    private string HistoryPath(int trialId) => Path.Combine(Folder, $"trial-{trialId:D4}.history.csv");

    /// <summary>Writes the trial's learning curve, then the whole table, each through a temporary file and a rename.</summary>
    public void Save(TrialResult added, IReadOnlyList<TrialResult> all)
    {
        // The curve first, so that the table never names a trial whose curve is missing.
        added.History.SaveCsv(HistoryPath(added.TrialId));
        var names = space.Dimensions.Select(d => d.Name).ToArray();
        var lines = new List<string> { CsvText.Row(Columns.Select(c => c.Name).Concat(names.Select(n => ParameterPrefix + n))) };
        foreach (var r in all)
        {
            var parameters = space.Format(r.Parameters);
            lines.Add(CsvText.Row(Columns.Select(c => c.Write(r)).Concat(names.Select(n => parameters[n]))));
        }
        AtomicFile.WriteAllText(CsvPath, string.Join('\n', lines) + "\n");
    }

    /// <summary>The finished trials recorded so far, in trial order; none when there is no table yet.</summary>
    /// <exception cref="FormatException">The table is damaged or was written for another search space.</exception>
    public IReadOnlyList<TrialResult> Load()
    {
        if (!File.Exists(CsvPath))
            return [];
        var rows = CsvText.Parse(File.ReadAllText(CsvPath));
        if (rows.Count == 0)
            return [];
        var header = rows[0];
        var results = new List<TrialResult>();
        foreach (var cells in rows.Skip(1))
        {
            if (cells.Length != header.Length)
                throw new FormatException($"{CsvPath}: a row has {cells.Length} cells; the header has {header.Length}.");
            var result = new TrialResult { TrialId = 0, ConfigurationId = 0, Parameters = new Dictionary<string, object>(), Epochs = 0, EpochsTrained = 0, Metric = double.NaN, Score = double.NegativeInfinity };
            foreach (var column in Columns)
            {
                int at = Array.IndexOf(header, column.Name);
                if (at < 0)
                    throw new FormatException($"{CsvPath} has no '{column.Name}' column.");
                result = column.Read(result, cells[at]);
            }
            var text = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++)
                if (header[i].StartsWith(ParameterPrefix, StringComparison.Ordinal))
                    text[header[i][ParameterPrefix.Length..]] = cells[i];
            var historyPath = HistoryPath(result.TrialId);
            results.Add(result with
            {
                Parameters = space.Parse(text),
                ModelPath = result.ModelPath is null ? null : Path.Combine(Folder, result.ModelPath),
                History = File.Exists(historyPath) ? TrainingHistory.LoadCsv(historyPath) : new TrainingHistory(),
                Resumed = true,
            });
        }
        return results.OrderBy(r => r.TrialId).ToArray();
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
