using System.Reflection;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Copies <see cref="CompactTransformerOptions"/> member by member, so a trial or a comparison run changes its own copy. Reflection rather
/// than a hand-written list, so that options added later are copied too (arrays and objects are shared, not cloned).
/// </summary>
internal static class OptionsCopy
{
    private static readonly FieldInfo[] Fields = typeof(CompactTransformerOptions).GetFields(BindingFlags.Public | BindingFlags.Instance);
    private static readonly PropertyInfo[] Properties = typeof(CompactTransformerOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite).ToArray();

    public static CompactTransformerOptions Of(CompactTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = new CompactTransformerOptions();
        foreach (var field in Fields)
            field.SetValue(copy, field.GetValue(options));
        foreach (var property in Properties)
            property.SetValue(copy, property.GetValue(options));
        return copy;
    }
}
