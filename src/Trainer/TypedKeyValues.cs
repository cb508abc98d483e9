using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Gives <c>PredictedLabel</c> the training label's key values with their own type. The scoring chain maps class
/// indices to class names as text; when the label's key values are numbers (MapValueToKey over an integer
/// column, say), three more stock transforms turn the key back into text, the text into that number type, and
/// the number into a key whose key values are the label's own.
/// </summary>
internal static class TypedKeyValues
{
    private const string KeyValuesKind = "KeyValues";

    /// <summary>The stages to append, or none when the label has text (or no) key values.</summary>
    public static IReadOnlyList<ITransformer> Stages(MLContext mlContext, DataViewSchema trainingSchema, string labelColumnName,
        DataViewSchema scoredSchema, string predictedLabelColumnName)
    {
        var label = trainingSchema.GetColumnOrNull(labelColumnName);
        var annotation = label?.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (label is null || annotation?.Type is not VectorDataViewType { ItemType: PrimitiveDataViewType itemType } || itemType is TextDataViewType)
            return Array.Empty<ITransformer>();
        if (!TryDataKind(itemType.RawType, out var kind))
            return Array.Empty<ITransformer>();

        string text = Data.UnusedColumnName.For(scoredSchema, predictedLabelColumnName + ".text");
        string typed = Data.UnusedColumnName.For(scoredSchema, predictedLabelColumnName + ".value");
        var keyData = (IDataView)typeof(TypedKeyValues).GetMethod(nameof(KeyData), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(itemType.RawType).Invoke(null, new object[] { mlContext, label.Value, itemType })!;
        var estimator = mlContext.Transforms.Conversion.MapKeyToValue(text, predictedLabelColumnName)
            .Append(mlContext.Transforms.Conversion.ConvertType(typed, text, kind))
            .Append(mlContext.Transforms.Conversion.MapValueToKey(predictedLabelColumnName, typed,
                keyOrdinality: Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: keyData))
            .Append(mlContext.Transforms.DropColumns(text, typed));
        return estimator.Fit(new Data.EmptyDataView(scoredSchema)).ToArray();
    }

    private static IDataView KeyData<T>(MLContext mlContext, DataViewSchema.Column label, PrimitiveDataViewType itemType)
    {
        VBuffer<T> values = default;
        label.Annotations.GetValue(KeyValuesKind, ref values);
        var definition = SchemaDefinition.Create(typeof(Row<T>));
        definition[0].ColumnType = itemType;
        return mlContext.Data.LoadFromEnumerable(values.DenseValues().Select(v => new Row<T> { Value = v }).ToArray(), definition);
    }

    private static bool TryDataKind(Type type, out DataKind kind)
    {
        kind = default;
        var table = new Dictionary<Type, DataKind>
        {
            [typeof(sbyte)] = DataKind.SByte, [typeof(byte)] = DataKind.Byte, [typeof(short)] = DataKind.Int16, [typeof(ushort)] = DataKind.UInt16,
            [typeof(int)] = DataKind.Int32, [typeof(uint)] = DataKind.UInt32, [typeof(long)] = DataKind.Int64, [typeof(ulong)] = DataKind.UInt64,
            [typeof(float)] = DataKind.Single, [typeof(double)] = DataKind.Double, [typeof(bool)] = DataKind.Boolean,
        };
        return table.TryGetValue(type, out kind);
    }

    private sealed class Row<T>
    {
        public T Value { get; set; } = default!;
    }
}
