using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Reads MNIST-style IDX files (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-*</c>; gzip-compressed or raw) into an <see cref="ImageDataset"/> of 1 x rows x cols bytes.
/// </summary>
public static class IdxDatasetReader
{
    private const int ImagesMagic = 0x00000803; // unsigned byte, 3 dimensions
    private const int LabelsMagic = 0x00000801; // unsigned byte, 1 dimension

    /// <summary>The Fashion-MNIST class names in label order.</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } = new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    /// <summary>
    /// Reads one split from a folder holding <c>{split}-images-idx3-ubyte[.gz]</c> and
    /// <c>{split}-labels-idx1-ubyte[.gz]</c>.
    /// </summary>
    /// <param name="folder">The folder of the IDX files.</param>
    /// <param name="split">The file name prefix: <c>train</c> or <c>t10k</c>.</param>
    /// <param name="classNames">Class names in label order; "0".."K-1" with K = largest label + 1 when null.</param>
    public static ImageDataset ReadSplit(string folder, string split, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(split);
        return Read(FindFile(folder, $"{split}-images-idx3-ubyte"), FindFile(folder, $"{split}-labels-idx1-ubyte"), classNames);
    }

    /// <summary>Reads an images file and its labels file.</summary>
    /// <param name="imagesPath">An IDX3 unsigned-byte file (magic 0x00000803), gzip or raw.</param>
    /// <param name="labelsPath">An IDX1 unsigned-byte file (magic 0x00000801) with as many records, gzip or raw.</param>
    /// <param name="classNames">Class names in label order; "0".."K-1" with K = largest label + 1 when null.</param>
    public static ImageDataset Read(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);

        byte[] images = ReadAll(imagesPath);
        Header(images, imagesPath, ImagesMagic, "images (IDX3)", 16);
        int count = Dimension(images, 4, imagesPath, "image count");
        int rows = Dimension(images, 8, imagesPath, "row count");
        int cols = Dimension(images, 12, imagesPath, "column count");
        if (rows < 1 || cols < 1)
            throw new InvalidDataException($"'{imagesPath}' gives images of {rows}x{cols} pixels.");
        long expected = 16 + (long)count * rows * cols;
        if (images.LongLength != expected)
            throw new InvalidDataException(
                $"'{imagesPath}' should hold {count} images of {rows}x{cols} ({expected} bytes with the header) but holds {images.LongLength} bytes.");

        byte[] labels = ReadAll(labelsPath);
        Header(labels, labelsPath, LabelsMagic, "labels (IDX1)", 8);
        int labelCount = Dimension(labels, 4, labelsPath, "label count");
        if (labels.LongLength != 8 + (long)labelCount)
            throw new InvalidDataException(
                $"'{labelsPath}' should hold {labelCount} labels ({8 + (long)labelCount} bytes with the header) but holds {labels.LongLength} bytes.");
        if (labelCount != count)
            throw new InvalidDataException(
                $"'{labelsPath}' holds {labelCount} labels but '{imagesPath}' holds {count} images.");

        int[] y = new int[count];
        for (int i = 0; i < count; i++)
            y[i] = labels[8 + i];
        int classCount = classNames?.Count ?? (count == 0 ? 1 : y.Max() + 1);
        for (int i = 0; i < count; i++)
        {
            if (y[i] >= classCount)
                throw new InvalidDataException(
                    $"'{labelsPath}' gives record {i} label {y[i]}, but only {classCount} class names were given.");
        }
        classNames ??= Enumerable.Range(0, classCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return ImageDataset.FromBytes(images.AsSpan(16).ToArray(), y, 1, rows, cols, classNames);
    }

    private static string FindFile(string folder, string name)
    {
        foreach (string candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path))
                return path;
        }
        throw new FileNotFoundException($"Neither '{name}.gz' nor '{name}' is in '{folder}'.", Path.Combine(folder, name));
    }

    /// <summary>The whole file, decompressed when it starts with the gzip signature (whatever its name).</summary>
    private static byte[] ReadAll(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
            return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' looks gzip-compressed but does not decompress: {e.Message}", e);
        }
    }

    private static void Header(byte[] data, string path, int magic, string kind, int headerSize)
    {
        // The magic number first: a wrong file is a likelier mistake than a short one.
        if (data.Length >= 4 && BinaryPrimitives.ReadInt32BigEndian(data) is var actual && actual != magic)
            throw new InvalidDataException(
                $"'{path}' starts with magic number 0x{actual:X8}; IDX {kind} start with 0x{magic:X8}. Is it the right file?");
        if (data.Length < headerSize)
            throw new InvalidDataException($"'{path}' has {data.Length} bytes, fewer than the {headerSize}-byte header of IDX {kind}.");
    }

    private static int Dimension(byte[] data, int offset, string path, string what)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset));
        if (value < 0)
            throw new InvalidDataException($"'{path}' gives a negative {what} ({value}).");
        return value;
    }
}
