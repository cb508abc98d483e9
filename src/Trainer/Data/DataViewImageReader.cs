using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Reads an <see cref="IDataView"/> once into an <see cref="ImageDataset"/>: a key-typed label column
/// and a feature column that holds pixels (ExtractPixels), images (LoadImages) or encoded image bytes
/// (LoadRawImageBytes).
/// </summary>
internal static class DataViewImageReader
{
    /// <summary>Images decoded per parallel step; the cursor itself is read sequentially.</summary>
    private const int DecodeChunk = 256;

    /// <summary>Channels of images read from an image or bytes column when the caller does not say.</summary>
    public const int DefaultImageChannels = 3;

    /// <summary>Reads every row of <paramref name="data"/> into a new in-memory data set.</summary>
    /// <param name="data">The training (or validation) data.</param>
    /// <param name="labelColumnName">A key-typed label column (MapValueToKey).</param>
    /// <param name="featureColumnName">
    /// A known-size <c>Vector&lt;Single&gt;</c> or <c>Vector&lt;Byte&gt;</c> of C*H*W pixels in planar CHW
    /// order (ExtractPixels), an image column (LoadImages), or a variable-size <c>Vector&lt;Byte&gt;</c> of
    /// encoded image bytes (LoadRawImageBytes).
    /// </param>
    /// <param name="channels">
    /// Channels per image. For pixel vectors, inferred (1 or 3) when null; for images, 1 converts to
    /// grayscale and 3 (the default) to RGB.
    /// </param>
    /// <param name="height">Image height; inferred for pixel vectors, and taken from the first image otherwise, when null.</param>
    /// <param name="width">Image width; inferred like <paramref name="height"/>.</param>
    public static ImageDataset Read(IDataView data, string labelColumnName, string featureColumnName,
        int? channels = null, int? height = null, int? width = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labelColumnName);
        ArgumentNullException.ThrowIfNull(featureColumnName);

        (DataViewSchema.Column label, string[] classNames) = KeyLabelColumn.Resolve(data.Schema, labelColumnName);
        DataViewSchema.Column feature = data.Schema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentException(
                $"The feature column '{featureColumnName}' is not in the data (columns: {string.Join(", ", data.Schema.Select(c => c.Name))}).");

        ImageDatasetBuilder builder = FeatureColumnKinds.Of(feature.Type) switch
        {
            FeatureColumnKind.FloatPixels or FeatureColumnKind.BytePixels
                => ReadPixelVectors(data, label, feature, (VectorDataViewType)feature.Type, classNames.Length, channels, height, width),
            FeatureColumnKind.Image
                => ReadImages(data, label, feature, classNames.Length, channels, height ?? NullIfZero(((ImageDataViewType)feature.Type).Height),
                    width ?? NullIfZero(((ImageDataViewType)feature.Type).Width)),
            FeatureColumnKind.EncodedImage
                => ReadImages(data, label, feature, classNames.Length, channels, height, width),
            _ => throw new ArgumentException(
                $"The feature column '{featureColumnName}' has type {feature.Type}, which cannot be read as images. Accepted: " +
                FeatureColumnKinds.Accepted + "."),
        };
        return builder.Build(classNames);
    }

    private static int? NullIfZero(int value) => value > 0 ? value : null;

    private static ImageDatasetBuilder ReadPixelVectors(IDataView data, DataViewSchema.Column label,
        DataViewSchema.Column feature, VectorDataViewType type, int classCount, int? channels, int? height, int? width)
    {
        var (c, h, w) = PixelVectorShape.Resolve(feature.Name, type.Size, channels, height, width);
        var builder = new ImageDatasetBuilder(c, h, w, data.GetRowCount() ?? 0, feature.Name);
        // Scratch for sparse rows only: dense rows go straight from the cursor's buffer into the data set.
        var pixels = new float[type.Size];
        var bytes = new byte[type.Size];
        using DataViewRowCursor cursor = data.GetRowCursor(new[] { label, feature });
        ValueGetter<uint> getLabel = cursor.GetGetter<uint>(label);
        bool isFloat = type.ItemType == NumberDataViewType.Single;
        ValueGetter<VBuffer<float>>? getFloats = isFloat ? cursor.GetGetter<VBuffer<float>>(feature) : null;
        ValueGetter<VBuffer<byte>>? getBytes = isFloat ? null : cursor.GetGetter<VBuffer<byte>>(feature);
        VBuffer<float> floatBuffer = default;
        VBuffer<byte> byteBuffer = default;
        uint key = 0;
        long row = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            int y = KeyLabelColumn.ToLabel(key, classCount, label.Name, row);
            if (isFloat)
            {
                getFloats!(ref floatBuffer);
                builder.Add(Dense(floatBuffer, pixels, feature.Name, row), y, row);
            }
            else
            {
                getBytes!(ref byteBuffer);
                builder.Add(Dense(byteBuffer, bytes, feature.Name, row), y);
            }
            row++;
        }
        return builder;
    }

    /// <summary>
    /// Reads an image or encoded-bytes column: the cursor is read sequentially (copying each row's pixels
    /// or bytes at once, since the getter disposes the previous image), and each chunk is decoded,
    /// resized and converted in parallel.
    /// </summary>
    private static ImageDatasetBuilder ReadImages(IDataView data, DataViewSchema.Column label,
        DataViewSchema.Column feature, int classCount, int? channels, int? height, int? width)
    {
        int c = channels ?? DefaultImageChannels;
        if (c is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), c,
                $"Images of column '{feature.Name}' can be read as 1 (grayscale) or 3 (RGB) channels.");
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image height and width must be positive (got {height}, {width}).");

        bool encoded = feature.Type is VectorDataViewType;
        using DataViewRowCursor cursor = data.GetRowCursor(new[] { label, feature });
        ValueGetter<uint> getLabel = cursor.GetGetter<uint>(label);
        ValueGetter<MLImage>? getImage = encoded ? null : cursor.GetGetter<MLImage>(feature);
        ValueGetter<VBuffer<byte>>? getBytes = encoded ? cursor.GetGetter<VBuffer<byte>>(feature) : null;

        ImageDatasetBuilder? builder = null;
        var sources = new List<(byte[]? Encoded, DecodedImage? Decoded, long Row)>(DecodeChunk);
        var labels = new List<int>(DecodeChunk);
        MLImage image = null!;
        VBuffer<byte> bytes = default;
        uint key = 0;
        long row = 0;
        try
        {
            while (cursor.MoveNext())
            {
                getLabel(ref key);
                labels.Add(KeyLabelColumn.ToLabel(key, classCount, label.Name, row));
                if (encoded)
                {
                    getBytes!(ref bytes);
                    var copy = new byte[bytes.Length];
                    Dense(bytes, copy, feature.Name, row).CopyTo(copy);
                    sources.Add((copy, null, row));
                }
                else
                {
                    // The getter disposes the image it is handed next time, and ResizeImages may pass the
                    // same instance along: copy the pixels now and keep no reference.
                    getImage!(ref image);
                    if (image is null)
                        throw new InvalidOperationException($"Row {row} has no image in column '{feature.Name}'.");
                    sources.Add((null, ImagePixelConverter.Copy(image), row));
                }
                row++;
                if (sources.Count == DecodeChunk)
                    Flush();
            }
            Flush();
        }
        finally
        {
            image?.Dispose();
        }
        return builder ?? new ImageDatasetBuilder(c, height ?? 1, width ?? 1);

        void Flush()
        {
            if (sources.Count == 0)
                return;
            var decoded = new DecodedImage[sources.Count];
            Parallel.For(0, sources.Count, i => decoded[i] = sources[i].Decoded ?? DecodeRow(sources[i].Encoded!, sources[i].Row));
            // The first image fixes the size when the caller and the column type leave it open.
            builder ??= new ImageDatasetBuilder(c, height ?? decoded[0].Height, width ?? decoded[0].Width,
                data.GetRowCount() ?? 0);
            int size = builder.Channels * builder.Height * builder.Width;
            var planar = new byte[decoded.Length * size];
            Parallel.For(0, decoded.Length, i => ImagePixelConverter.ToPlanar(decoded[i], builder.Channels,
                builder.Height, builder.Width, planar.AsSpan(i * size, size)));
            for (int i = 0; i < decoded.Length; i++)
                builder.Add(planar.AsSpan(i * size, size), labels[i]);
            sources.Clear();
            labels.Clear();
        }

        DecodedImage DecodeRow(byte[] encodedImage, long sourceRow)
        {
            try
            {
                return ImagePixelConverter.Decode(encodedImage);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
            {
                throw new InvalidOperationException(
                    $"Row {sourceRow} of column '{feature.Name}' holds {encodedImage.Length} bytes that do not decode as an image: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// The values of <paramref name="buffer"/>, the vector of row <paramref name="row"/>: its own span when dense (no copy),
    /// else expanded into <paramref name="scratch"/>, whose length is the one expected.
    /// </summary>
    private static ReadOnlySpan<T> Dense<T>(in VBuffer<T> buffer, Span<T> scratch, string columnName, long row)
    {
        if (buffer.Length != scratch.Length)
            throw new InvalidOperationException(
                $"Row {row} of column '{columnName}' holds a vector of {buffer.Length} values; the column's type promises {scratch.Length}.");
        ReadOnlySpan<T> values = buffer.GetValues();
        if (buffer.IsDense)
            return values;
        scratch.Clear();
        ReadOnlySpan<int> indices = buffer.GetIndices();
        for (int i = 0; i < indices.Length; i++)
            scratch[indices[i]] = values[i];
        return scratch;
    }
}
