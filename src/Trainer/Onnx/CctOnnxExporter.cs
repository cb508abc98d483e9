using System.Reflection;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Exports a CCT / CVT / ViT-Lite network to an ONNX graph that mirrors the PyTorch forward pass op for
/// op (inference only: dropout and drop path are identity), built from the architecture record and a
/// state dict with the original's key names. Every attention variant exports: the value transform
/// <c>beta * V + alpha * softmax_over_tokens(V)</c> in self-attention, in sequence pooling, or both.
/// </summary>
public static class CctOnnxExporter
{
    /// <summary>Lowest and highest default-domain opset this exporter writes.</summary>
    public const int MinOpset = 17, MaxOpset = 21;

    /// <summary>
    /// Builds the ONNX model and returns its serialized bytes.
    /// </summary>
    /// <param name="architecture">The network shape; validated.</param>
    /// <param name="stateDict">
    /// Weights under the original's keys (e.g. <c>tokenizer.conv_layers.0.0.weight</c>,
    /// <c>classifier.blocks.0.self_attn.qkv.weight</c>). Every key the architecture needs must be present
    /// with the exact shape; keys it does not need are an error. A sine embedding may be left out (it is regenerated).
    /// </param>
    /// <param name="mixing">
    /// The attention variant; its current alpha and beta are baked into the graph. With class-token pooling
    /// (ViT-Lite) there is no sequence pooling, so the <see cref="AttentionScope.Pooling"/> part has nothing to act on.
    /// </param>
    /// <param name="settings">Names, preprocessing and format.</param>
    /// <exception cref="ArgumentException">An argument cannot be exported; the message names the value and what was expected.</exception>
    public static byte[] Export(CctArchitecture architecture, IReadOnlyDictionary<string, NamedTensorData> stateDict,
        ValueMixing mixing, OnnxExportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(mixing);
        ArgumentNullException.ThrowIfNull(settings);
        architecture.Validate();
        Validate(mixing);
        Validate(settings, architecture);

        var graph = new OnnxGraphBuilder();
        var weights = new StateDictReader(stateDict, architecture.Name ?? "(custom)");
        // A clone: a training loop may change the shared instance while we export.
        new CctGraphEmitter(graph, architecture, weights, mixing.Clone(), settings).Emit();
        weights.ThrowIfUnused();
        return OnnxModelSerializer.Serialize(graph, settings.GraphName, settings.Opset, ProducerVersion, settings.Metadata);
    }

    private static string ProducerVersion =>
        typeof(CctOnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    private static void Validate(ValueMixing mixing)
    {
        if (!double.IsFinite(mixing.Alpha))
            throw new ArgumentException($"ValueMixing.Alpha is {mixing.Alpha}; expected a finite number.", nameof(mixing));
        if (!double.IsFinite(mixing.Beta))
            throw new ArgumentException($"ValueMixing.Beta is {mixing.Beta}; expected a finite number.", nameof(mixing));
    }

    private static void Validate(OnnxExportSettings s, CctArchitecture arch)
    {
        const string param = "settings";
        if (s.Opset is < MinOpset or > MaxOpset)
            throw new ArgumentException($"OnnxExportSettings.Opset is {s.Opset}; expected {MinOpset} to {MaxOpset}.", param);

        var names = new List<(string Field, string? Value)>
        {
            (nameof(s.InputName), s.InputName), (nameof(s.ScoreOutputName), s.ScoreOutputName),
        };
        if (s.PredictedIndexOutputName is not null) names.Add((nameof(s.PredictedIndexOutputName), s.PredictedIndexOutputName));
        if (s.LogitsOutputName is not null) names.Add((nameof(s.LogitsOutputName), s.LogitsOutputName));
        foreach (var (field, value) in names)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentException($"OnnxExportSettings.{field} is '{value}'; expected a non-empty name.", param);
            if (value.StartsWith("mlnet.", StringComparison.Ordinal))
                throw new ArgumentException($"OnnxExportSettings.{field} is '{value}'; names starting with 'mlnet.' are reserved for ML.NET metadata.", param);
        }
        var duplicate = names.GroupBy(n => n.Value, StringComparer.Ordinal).FirstOrDefault(grp => grp.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException(
                $"OnnxExportSettings.{string.Join(" and ", duplicate.Select(d => d.Field))} are all '{duplicate.Key}'; expected distinct names.", param);

        if (s.Metadata is { } metadata)
            foreach (var (key, value) in metadata)
            {
                if (string.IsNullOrEmpty(key))
                    throw new ArgumentException("OnnxExportSettings.Metadata has an empty key; expected non-empty keys.", param);
                if (value is null)
                    throw new ArgumentException($"OnnxExportSettings.Metadata['{key}'] is null; expected a string (empty is fine).", param);
            }

        if (!float.IsFinite(s.PixelScale) || s.PixelScale == 0f)
            throw new ArgumentException($"OnnxExportSettings.PixelScale is {s.PixelScale}; expected a finite, non-zero factor.", param);
        CheckPerChannel(s.Mean, nameof(s.Mean), arch.InputChannels, v => float.IsFinite(v), "finite");
        CheckPerChannel(s.Std, nameof(s.Std), arch.InputChannels, v => float.IsFinite(v) && v > 0f, "finite and positive");

        if (s.ClassNames is { } classes)
        {
            if (classes.Count != arch.NumClasses)
                throw new ArgumentException(
                    $"OnnxExportSettings.ClassNames has {classes.Count} names; the architecture has {arch.NumClasses} classes.", param);
            int nullAt = classes.ToList().FindIndex(c => c is null);
            if (nullAt >= 0)
                throw new ArgumentException($"OnnxExportSettings.ClassNames[{nullAt}] is null; expected a name.", param);
            var repeated = classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(grp => grp.Count() > 1);
            if (repeated is not null)
                throw new ArgumentException($"OnnxExportSettings.ClassNames has '{repeated.Key}' {repeated.Count()} times; expected distinct names.", param);
        }
    }

    private static void CheckPerChannel(IReadOnlyList<float>? values, string field, int channels, Func<float, bool> ok, string expected)
    {
        if (values is null)
            return;
        if (values.Count != channels)
            throw new ArgumentException($"OnnxExportSettings.{field} has {values.Count} values; expected one per input channel ({channels}).", "settings");
        for (int i = 0; i < values.Count; i++)
            if (!ok(values[i]))
                throw new ArgumentException($"OnnxExportSettings.{field}[{i}] is {values[i]}; expected {expected}.", "settings");
    }
}
