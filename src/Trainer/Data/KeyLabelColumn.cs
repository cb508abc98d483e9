using System.Globalization;
using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// The label column of a classifier: a key type over <see cref="uint"/> (what MapValueToKey makes), whose
/// key values, when present, name the classes.
/// </summary>
internal static class KeyLabelColumn
{
    private const string KeyValuesKind = "KeyValues";

    /// <summary>Finds the label column and checks its type; returns it with its class names in key order.</summary>
    public static (DataViewSchema.Column Column, string[] ClassNames) Resolve(DataViewSchema schema, string columnName)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(columnName)
            ?? throw new ArgumentException(
                $"The label column '{columnName}' is not in the data (columns: {string.Join(", ", schema.Select(c => c.Name))}).");
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentException(
                $"The label column '{columnName}' has type {column.Type}; a key type (KeyDataViewType over UInt32) is needed. " +
                $"Use mlContext.Transforms.Conversion.MapValueToKey(\"{columnName}\") before the trainer.");
        if (key.Count < 1 || key.Count > int.MaxValue)
            throw new ArgumentException($"The label column '{columnName}' has a key type of {key.Count} values; 1..{int.MaxValue} are supported.");
        int classCount = (int)key.Count;

        string[]? names = ReadKeyValues(column);
        if (names is not null && names.Length != classCount)
            throw new ArgumentException(
                $"The label column '{columnName}' has {classCount} keys but {names.Length} key values.");
        names ??= Enumerable.Range(0, classCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return (column, names);
    }

    /// <summary>Turns a raw key (1..K, 0 = missing) of row <paramref name="row"/> into a label 0..K-1.</summary>
    public static int ToLabel(uint key, int classCount, string columnName, long row)
    {
        if (key == 0)
            throw new InvalidOperationException(
                $"Row {row} has a missing label in column '{columnName}' (a value MapValueToKey did not know, or an empty one). " +
                "Remove such rows, for example with mlContext.Data.FilterRowsByMissingValues.");
        if (key > classCount)
            throw new InvalidOperationException($"Row {row} has key {key} in column '{columnName}', beyond its {classCount} keys.");
        return (int)key - 1;
    }

    private static string[]? ReadKeyValues(DataViewSchema.Column column)
    {
        DataViewSchema.Column? annotation = column.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (annotation?.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType itemType })
            return null;
        // Key values may be of any primitive type; one generic read per item type.
        MethodInfo read = typeof(KeyLabelColumn)
            .GetMethod(nameof(ReadKeyValuesAs), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(itemType.RawType);
        return (string[])read.Invoke(null, new object[] { column })!;
    }

    private static string[] ReadKeyValuesAs<T>(DataViewSchema.Column column)
    {
        VBuffer<T> values = default;
        column.Annotations.GetValue(KeyValuesKind, ref values);
        return values.DenseValues().Select(v => v switch
        {
            null => "",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        }).ToArray();
    }
}
