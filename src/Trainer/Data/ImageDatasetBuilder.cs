namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Collects images one after another when their number is not known in advance (a cursor), and
/// decides the storage as it goes: bytes while every value seen is an integer in 0..255, floats from
/// the first value that is not (earlier images are widened then, once).
/// </summary>
internal sealed class ImageDatasetBuilder
{
    private readonly int _imageSize;
    private byte[]? _bytes;
    private float[]? _floats;
    private int[] _labels;

    public ImageDatasetBuilder(int channels, int height, int width, long capacityHint = 0)
    {
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

    public void Add(ReadOnlySpan<float> pixels, int label)
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
            pixels.CopyTo(_floats.AsSpan(Count * _imageSize, _imageSize));
        }
        _labels[Count++] = label;
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
