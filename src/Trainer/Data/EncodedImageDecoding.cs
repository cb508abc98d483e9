using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Decodes encoded image bytes into planar float pixels inside an ML.NET pipeline, with the same decoder and
/// resize the training reader uses. ML.NET 5.0.1 ships no stock transform that decodes bytes (LoadImages
/// only reads paths), so this is a CustomMapping: it scores in process, but a model holding it cannot be
/// saved as stock transforms.
/// </summary>
internal static class EncodedImageDecoding
{
    public static IEstimator<ITransformer> Estimator(MLContext mlContext, string outputColumnName, string inputColumnName,
        int channels, int height, int width)
    {
        var input = SchemaDefinition.Create(typeof(EncodedRow));
        input[0].ColumnName = inputColumnName;
        input[0].ColumnType = new VectorDataViewType(NumberDataViewType.Byte);
        var output = SchemaDefinition.Create(typeof(PixelRow));
        output[0].ColumnName = outputColumnName;
        output[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, channels * height * width);
        return mlContext.Transforms.CustomMapping<EncodedRow, PixelRow>((source, target) =>
        {
            var planar = new byte[channels * height * width];
            ImagePixelConverter.ToPlanar(ImagePixelConverter.Decode(source.Bytes), channels, height, width, planar);
            target.Pixels = Array.ConvertAll(planar, b => (float)b);
        }, contractName: null, input, output);
    }

    internal sealed class EncodedRow
    {
        public byte[] Bytes = Array.Empty<byte>();
    }

    internal sealed class PixelRow
    {
        public float[] Pixels = Array.Empty<float>();
    }
}
