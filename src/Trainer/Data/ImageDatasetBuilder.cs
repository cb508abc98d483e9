namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Collects images one after another when their number is not known in advance (a cursor), and
/// decides the storage as it goes: bytes while every value seen is an integer in 0..255, floats from
/// the first value that is not (earlier images are widened then, once). Float pixels must be finite: NaN or an
/// infinity is refused as it is copied, naming the source column and row.
/// </summary>
internal sealed class ImageDatasetBuilder
{
    private readonly int _imageSize;
    private readonly string _columnName;
    private byte[]? _bytes;
    private float[]? _floats;
    private int[] _labels;

    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="capacityHint">Expected image count, when known.</param>
    /// <param name="columnName">The column the pixels come from, for error messages.</param>
    public ImageDatasetBuilder(int channels, int height, int width, long capacityHint = 0, string columnName = "pixels")
    {
        _columnName = columnName;
        Channels = channels;
        Height = height;
        Width = width;
        _imageSize = checked(channels * height * width);
        int capacity = (int)Math.Clamp(capacityHint, 16, Array.MaxLength / _imageSize);
        _bytes = new byte[(long)capacity * _imageSize];
        _labels = new int[capacity];
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Count { get; private set; }

    public void Add(ReadOnlySpan<byte> pixels, int label)
    {
        CheckLength(pixels.Length);
        EnsureRoom();
        if (_bytes is not null)
        {
            pixels.CopyTo(_bytes.AsSpan(Count * _imageSize, _imageSize));
        }
        else
        {
            Span<float> destination = _floats.AsSpan(Count * _imageSize, _imageSize);
            for (int i = 0; i < pixels.Length; i++)
                destination[i] = pixels[i];
        }
        _labels[Count++] = label;
    }

    /// <summary>Adds the image of source row <paramref name="row"/>; throws when a pixel is NaN or infinite.</summary>
    public void Add(ReadOnlySpan<float> pixels, int label, long row)
    {
        CheckLength(pixels.Length);
        EnsureRoom();
        if (_bytes is not null && !AllBytes(pixels))
            WidenToFloats();
        if (_bytes is not null)
        {
            Span<byte> destination = _bytes.AsSpan(Count * _imageSize, _imageSize);
            for (int i = 0; i < pixels.Length; i++)
                destination[i] = (byte)pixels[i];
        }
        else
        {
            // The finiteness check rides on the copy: one pass, no extra buffer. Byte-valued images passed AllBytes,
            // which no NaN or infinity does, so they need none.
            Span<float> destination = _floats.AsSpan(Count * _imageSize, _imageSize);
            for (int i = 0; i < pixels.Length; i++)
            {
                float value = pixels[i];
                if (!float.IsFinite(value))
                    throw NotFinite(value, i, row);
                destination[i] = value;
            }
        }
        _labels[Count++] = label;
    }

    private InvalidOperationException NotFinite(float value, int index, long row)
    {
        int plane = Height * Width;
        int channel = index / plane, y = index % plane / Width, x = index % Width;
        string text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new InvalidOperationException(
            $"Row {row} of column '{_columnName}' has pixel value {text} at index {index} (channel {channel}, y {y}, x {x}); " +
            "pixels must be finite numbers. Repair or remove such rows (e.g. mlContext.Transforms.ReplaceMissingValues for NaN, " +
            "or mlContext.Data.FilterRowsByMissingValues).");
    }

    public ImageDataset Build(IReadOnlyList<string> classNames)
    {
        int[] labels = _labels.AsSpan(0, Count).ToArray();
        long length = (long)Count * _imageSize;
        return _bytes is not null
            ? ImageDataset.FromBytes(_bytes.AsSpan(0, (int)length).ToArray(), labels, Channels, Height, Width, classNames)
            : ImageDataset.FromFloats(_floats.AsSpan(0, (int)length).ToArray(), labels, Channels, Height, Width, classNames);
    }

    private static bool AllBytes(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            // NaN fails both comparisons, so it also forces floats.
            if (!(v >= 0 && v <= 255) || v != MathF.Floor(v))
                return false;
        }
        return true;
    }

    private void CheckLength(int length)
    {
        if (length != _imageSize)
            throw new ArgumentException($"An image of {Channels}x{Height}x{Width} has {_imageSize} values, not {length}.");
    }

    private void EnsureRoom()
    {
        if (Count < _labels.Length)
            return;
        int maxImages = Array.MaxLength / _imageSize;
        if (Count >= maxImages)
            throw new InvalidOperationException(
                $"More than {maxImages} images of {Channels}x{Height}x{Width} do not fit one in-memory array.");
        int capacity = (int)Math.Min((long)_labels.Length * 2, maxImages);
        Array.Resize(ref _labels, capacity);
        if (_bytes is not null)
            Array.Resize(ref _bytes, capacity * _imageSize);
        else
            Array.Resize(ref _floats, capacity * _imageSize);
    }

    private void WidenToFloats()
    {
        var floats = new float[_bytes!.Length];
        for (int i = 0; i < Count * _imageSize; i++)
            floats[i] = _bytes[i];
        _floats = floats;
        _bytes = null;
    }
}
