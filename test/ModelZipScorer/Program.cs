// Usage: ModelZipScorer <model.zip> <features.bin> <feature column> <result.json>
// features.bin: raw little-endian float32 rows of the feature vector. result.json: the scores as float bit
// patterns (for bitwise comparison), the predicted keys, the key values and slot names, and the loaded assemblies.
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: ModelZipScorer <model.zip> <features.bin> <feature column> <result.json>");
    return 2;
}
string modelPath = args[0], featuresPath = args[1], featureColumn = args[2], resultPath = args[3];

var ml = new MLContext(seed: 0);
ITransformer model = ml.Model.Load(modelPath, out DataViewSchema inputSchema);
int size = ((VectorDataViewType)inputSchema[featureColumn].Type).Size;
float[] all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(featuresPath)).ToArray();
var rows = Enumerable.Range(0, all.Length / size).Select(r => new FeatureRow { Features = all[(r * size)..((r + 1) * size)] }).ToArray();

var definition = SchemaDefinition.Create(typeof(FeatureRow));
definition[0].ColumnName = featureColumn;
definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
IDataView scored = model.Transform(ml.Data.LoadFromEnumerable(rows, definition));

var scores = scored.GetColumn<float[]>("Score").Select(s => s.Select(BitConverter.SingleToUInt32Bits).ToArray()).ToArray();
var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
VBuffer<ReadOnlyMemory<char>> keyValues = default, slotNames = default;
scored.Schema["PredictedLabel"].GetKeyValues(ref keyValues);
scored.Schema["Score"].GetSlotNames(ref slotNames);

var result = new
{
    ScoreBits = scores,
    PredictedLabel = labels,
    KeyValues = keyValues.DenseValues().Select(v => v.ToString()).ToArray(),
    SlotNames = slotNames.DenseValues().Select(v => v.ToString()).ToArray(),
    LoadedAssemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).ToArray(),
};
File.WriteAllText(resultPath, JsonSerializer.Serialize(result));
return 0;

internal sealed class FeatureRow
{
    public float[] Features { get; set; } = Array.Empty<float>();
}
