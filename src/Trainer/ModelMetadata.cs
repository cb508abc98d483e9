using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// What a saved model needs besides its weights to be trained further: stored as JSON strings in the ONNX
/// graph's metadata_props, so the zip stays made of stock ML.NET parts.
/// </summary>
internal static class ModelMetadata
{
    public const string ArchitectureKey = "cct.architecture";
    public const string ClassesKey = "cct.classes";
    public const string NormalizationKey = "cct.normalization";
    public const string AttentionKey = "cct.attention";
    public const string HistoryKey = "cct.history";

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed record NormalizationData(double Scale, double[] Mean, double[] Std);

    private sealed record AttentionData(double Alpha, double Beta, AttentionScope Scope);

    public static Dictionary<string, string> Write(CctArchitecture architecture, IReadOnlyList<string> classNames,
        PixelNormalization normalization, ValueMixing mixing, TrainingHistory history) => new()
    {
        [ArchitectureKey] = JsonSerializer.Serialize(architecture, Json),
        [ClassesKey] = JsonSerializer.Serialize(classNames, Json),
        [NormalizationKey] = JsonSerializer.Serialize(new NormalizationData(normalization.Scale, normalization.Mean.ToArray(), normalization.Std.ToArray()), Json),
        [AttentionKey] = JsonSerializer.Serialize(new AttentionData(mixing.Alpha, mixing.Beta, mixing.Scope), Json),
        [HistoryKey] = history.ToJson(),
    };

    public static CctArchitecture Architecture(IReadOnlyDictionary<string, string> metadata, string source) =>
        Parse(metadata, ArchitectureKey, source, json =>
        {
            var architecture = Deserialize<CctArchitecture>(json);
            architecture.Validate();
            return architecture;
        });

    public static string[] ClassNames(IReadOnlyDictionary<string, string> metadata, string source) =>
        Parse(metadata, ClassesKey, source, json =>
        {
            var names = Deserialize<string?[]>(json);
            if (names.Length == 0 || names.Any(n => n is null))
                throw new FormatException("expected one name per class");
            return names.Select(n => n!).ToArray();
        });

    public static PixelNormalization Normalization(IReadOnlyDictionary<string, string> metadata, string source) =>
        Parse(metadata, NormalizationKey, source, json =>
        {
            var n = Deserialize<NormalizationData>(json);
            if (n.Mean is null || n.Std is null)
                throw new FormatException("expected a mean and a std per channel");
            return new PixelNormalization(n.Scale, n.Mean, n.Std);
        });

    public static ValueMixing Mixing(IReadOnlyDictionary<string, string> metadata, string source) =>
        Parse(metadata, AttentionKey, source, json =>
        {
            var a = Deserialize<AttentionData>(json);
            return new ValueMixing(a.Alpha, a.Beta, a.Scope);
        });

    public static TrainingHistory History(IReadOnlyDictionary<string, string> metadata, string source) =>
        metadata.ContainsKey(HistoryKey) ? Parse(metadata, HistoryKey, source, TrainingHistory.FromJson) : new TrainingHistory();

    private static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new FormatException("it is null");

    /// <summary>
    /// Parses one metadata entry. Whatever is wrong with it (not JSON, a value the type refuses) becomes an
    /// <see cref="InvalidDataException"/> that names the file and the key: the entry comes from a file, not a caller.
    /// </summary>
    private static T Parse<T>(IReadOnlyDictionary<string, string> metadata, string key, string source, Func<string, T> parse)
    {
        if (!metadata.TryGetValue(key, out var json))
            throw new InvalidDataException($"The model in '{source}' has no '{key}' metadata; it was not saved by this trainer's Fit or `cct import`.");
        try
        {
            return parse(json);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            throw new InvalidDataException($"'{key}' in '{source}' is not valid: {e.Message}", e);
        }
    }
}
