using System.Reflection;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>Copies <see cref="CompactTransformerOptions"/> field by field, so that a template can be varied per run without being changed.</summary>
internal static class OptionsCopy
{
    private static readonly FieldInfo[] Fields = typeof(CompactTransformerOptions).GetFields(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>A shallow copy: every public field (arrays and callbacks are shared, not cloned).</summary>
    public static CompactTransformerOptions Of(CompactTransformerOptions template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var copy = new CompactTransformerOptions();
        foreach (var field in Fields)
            field.SetValue(copy, field.GetValue(template));
        return copy;
    }
}
