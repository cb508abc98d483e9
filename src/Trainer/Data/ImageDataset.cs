namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// A labelled image data set held in memory: <see cref="Count"/> images of
/// <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/> pixels in planar CHW order, one
/// label 0..<see cref="ClassCount"/>-1 per image, and the class names in label order.
/// </summary>
/// <remarks>
/// Training reads its data once into this cache and slices it into batches every epoch, instead of
/// going through an ML.NET cursor per epoch. Pixels are stored as bytes when every value is an integer
/// in 0..255 (8-bit images), which takes a quarter of the memory of floats; otherwise as floats.
/// Values are kept as the source gave them: normalisation belongs to the network.
/// </remarks>
public sealed class ImageDataset
{
    private readonly byte[]? _bytes;
    private readonly float[]? _floats;
    private readonly int[] _labels;
    private readonly string[] _classNames;

    private ImageDataset(byte[]? bytes, float[]? floats, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (classNames.Count < 1)
            throw new ArgumentException("At least one class name is needed.", nameof(classNames));

        long imageSize = (long)channels * height * width;
        long pixelCount = bytes?.LongLength ?? floats!.LongLength;
        if (pixelCount != labels.LongLength * imageSize)
            throw new ArgumentException(
                $"{pixelCount} pixel values do not make {labels.Length} images of {channels}x{height}x{width}.");
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException(
                    $"Label {labels[i]} of image {i} is outside 0..{classNames.Count - 1} ({classNames.Count} classes).",
                    nameof(labels));
        }

        _bytes = bytes;
        _floats = floats;
        _labels = labels;
        _classNames = classNames.ToArray();
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Creates a data set over 8-bit pixels (the arrays are taken over, not copied).</summary>
    /// <param name="pixels">Count * channels * height * width bytes, image after image, each planar CHW.</param>
    /// <param name="labels">One label per image, 0..classNames.Count-1.</param>
    /// <param name="channels">Channels per image (1 grayscale, 3 RGB).</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="classNames">Class names in label order.</param>
    public static ImageDataset FromBytes(byte[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return new ImageDataset(pixels, null, labels, channels, height, width, classNames);
    }

    /// <summary>Creates a data set over float pixels (the arrays are taken over, not copied).</summary>
    /// <param name="pixels">Count * channels * height * width floats, image after image, each planar CHW.</param>
    /// <param name="labels">One label per image, 0..classNames.Count-1.</param>
    /// <param name="channels">Channels per image (1 grayscale, 3 RGB).</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="classNames">Class names in label order.</param>
    public static ImageDataset FromFloats(float[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return new ImageDataset(null, pixels, labels, channels, height, width, classNames);
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>Channels per image (1 grayscale, 3 RGB).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Values per image: <see cref="Channels"/> * <see cref="Height"/> * <see cref="Width"/>.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Number of classes K; labels are 0..K-1.</summary>
    public int ClassCount => _classNames.Length;

    /// <summary>Class names in label (key) order.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>True when pixels are stored as bytes (<see cref="BytePixels"/>), false for floats (<see cref="FloatPixels"/>).</summary>
    public bool StoresBytes => _bytes is not null;

    /// <summary>All pixels as bytes, image after image; empty when <see cref="StoresBytes"/> is false.</summary>
    public ReadOnlySpan<byte> BytePixels => _bytes;

    /// <summary>All pixels as floats, image after image; empty when <see cref="StoresBytes"/> is true.</summary>
    public ReadOnlySpan<float> FloatPixels => _floats;

    /// <summary>The label of every image.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>
    /// Copies the images at <paramref name="indices"/> into <paramref name="pixels"/> (NCHW floats, N =
    /// indices.Length) and their labels into <paramref name="labels"/>, ready to be wrapped into tensors.
    /// </summary>
    /// <param name="indices">Image indices, in batch order; repeats are allowed.</param>
    /// <param name="pixels">Destination of at least indices.Length * <see cref="ImageSize"/> floats.</param>
    /// <param name="labels">Destination of at least indices.Length labels.</param>
    public void CopyBatch(ReadOnlySpan<int> indices, Span<float> pixels, Span<long> labels)
    {
        int size = ImageSize;
        if (pixels.Length < (long)indices.Length * size)
            throw new ArgumentException(
                $"The pixel buffer holds {pixels.Length} floats; {indices.Length} images need {(long)indices.Length * size}.",
                nameof(pixels));
        if (labels.Length < indices.Length)
            throw new ArgumentException(
                $"The label buffer holds {labels.Length} values; {indices.Length} are needed.", nameof(labels));

        for (int b = 0; b < indices.Length; b++)
        {
            int index = indices[b];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} is outside 0..{Count - 1}.");
            // Storage never exceeds Array.MaxLength elements, so index * size fits an int.
            Span<float> destination = pixels.Slice(b * size, size);
            if (_bytes is not null)
            {
                ReadOnlySpan<byte> source = _bytes.AsSpan(index * size, size);
                for (int i = 0; i < size; i++)
                    destination[i] = source[i];
            }
            else
            {
                _floats.AsSpan(index * size, size).CopyTo(destination);
            }
            labels[b] = _labels[index];
        }
    }

    /// <summary>
    /// A new data set with the images at <paramref name="indices"/>, in that order, and the same classes
    /// (for a train / validation split).
    /// </summary>
    /// <param name="indices">Image indices to keep.</param>
    public ImageDataset Subset(ReadOnlySpan<int> indices)
    {
        int size = ImageSize;
        var labels = new int[indices.Length];
        byte[]? bytes = _bytes is null ? null : new byte[(long)indices.Length * size];
        float[]? floats = _floats is null ? null : new float[(long)indices.Length * size];
        for (int b = 0; b < indices.Length; b++)
        {
            int index = indices[b];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} is outside 0..{Count - 1}.");
            if (bytes is not null)
                _bytes.AsSpan(index * size, size).CopyTo(bytes.AsSpan(b * size, size));
            else
                _floats.AsSpan(index * size, size).CopyTo(floats.AsSpan(b * size, size));
            labels[b] = _labels[index];
        }
        return new ImageDataset(bytes, floats, labels, Channels, Height, Width, _classNames);
    }
}
