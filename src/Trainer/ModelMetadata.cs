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
        Read<CctArchitecture>(metadata, ArchitectureKey, source);

    public static string[] ClassNames(IReadOnlyDictionary<string, string> metadata, string source) =>
        Read<string[]>(metadata, ClassesKey, source);

    public static PixelNormalization Normalization(IReadOnlyDictionary<string, string> metadata, string source)
    {
        var n = Read<NormalizationData>(metadata, NormalizationKey, source);
        return new PixelNormalization(n.Scale, n.Mean, n.Std);
    }

    public static ValueMixing Mixing(IReadOnlyDictionary<string, string> metadata, string source)
    {
        var a = Read<AttentionData>(metadata, AttentionKey, source);
        return new ValueMixing(a.Alpha, a.Beta, a.Scope);
    }

    public static TrainingHistory History(IReadOnlyDictionary<string, string> metadata, string source) =>
        metadata.TryGetValue(HistoryKey, out var json) ? TrainingHistory.FromJson(json) : new TrainingHistory();

    private static T Read<T>(IReadOnlyDictionary<string, string> metadata, string key, string source)
    {
        if (!metadata.TryGetValue(key, out var json))
            throw new InvalidDataException($"The model in '{source}' has no '{key}' metadata; it was not saved by this trainer's Fit or `cct import`.");
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidDataException($"'{key}' in '{source}' is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{key}' in '{source}' is not valid: {e.Message}", e);
        }
    }
}
