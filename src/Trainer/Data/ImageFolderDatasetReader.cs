namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Reads a folder-per-class tree (<c>root/&lt;class&gt;/**/*.png</c>, the ImageNet layout) into an
/// <see cref="ImageDataset"/>, decoding the images in parallel.
/// </summary>
public static class ImageFolderDatasetReader
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp" };

    /// <summary>Reads every .png, .jpg, .jpeg and .bmp file under the class folders of <paramref name="root"/>.</summary>
    /// <param name="root">The folder whose subfolders are the classes.</param>
    /// <param name="channels">1 to read grayscale, 3 to read RGB.</param>
    /// <param name="height">Image height; images of another size are stretched to it. The first image's height when null.</param>
    /// <param name="width">Image width; as <paramref name="height"/>.</param>
    /// <param name="classOrder">
    /// The class folder names in label order. When null, the subfolders sorted ordinally. Given, every
    /// subfolder must be in it; a class without a folder is allowed (a split that lacks it keeps the labels).
    /// </param>
    /// <param name="maxDegreeOfParallelism">Files decoded at once; null for one per core.</param>
    public static ImageDataset Read(string root, int channels = 3, int? height = null, int? width = null,
        IReadOnlyList<string>? classOrder = null, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images are read as 1 (grayscale) or 3 (RGB) channels.");
        if (maxDegreeOfParallelism < 1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "At least one file must be decoded at a time.");
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image height and width must be positive (got {height}, {width}).");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The image folder '{root}' does not exist.");

        string[] folders = Directory.GetDirectories(root).Select(Path.GetFileName).Select(n => n!)
            .OrderBy(n => n, StringComparer.Ordinal).ToArray();
        string[] classNames = classOrder?.ToArray() ?? folders;
        if (classNames.Length == 0)
            throw new InvalidDataException($"'{root}' has no class subfolders.");
        var labelOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classNames.Length; i++)
        {
            if (!labelOf.TryAdd(classNames[i], i))
                throw new ArgumentException($"Class '{classNames[i]}' appears twice in the class order.", nameof(classOrder));
        }
        string[] unknown = folders.Where(f => !labelOf.ContainsKey(f)).ToArray();
        if (unknown.Length > 0)
            throw new InvalidDataException(
                $"'{root}' has class folders that are not in the class order: {string.Join(", ", unknown)}.");

        // Files in a fixed order (class, then ordinal path) so that the data set is the same on every machine.
        var files = new List<(string Path, int Label)>();
        foreach (string folder in folders)
        {
            string directory = Path.Combine(root, folder);
            files.AddRange(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => (f, labelOf[folder])));
        }
        files.Sort((a, b) => a.Label != b.Label ? a.Label.CompareTo(b.Label) : StringComparer.Ordinal.Compare(a.Path, b.Path));
        if (files.Count == 0)
            throw new InvalidDataException($"'{root}' holds no .png, .jpg, .jpeg or .bmp files in its class folders.");

        if (height is null || width is null)
        {
            DecodedImage first = DecodeFile(files[0].Path);
            height ??= first.Height;
            width ??= first.Width;
        }

        int size = channels * height.Value * width.Value;
        if ((long)size * files.Count > Array.MaxLength)
            throw new InvalidOperationException($"{files.Count} images of {channels}x{height}x{width} do not fit one in-memory array.");
        var pixels = new byte[size * files.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism ?? -1 };
        Parallel.For(0, files.Count, parallel, i => ImagePixelConverter.ToPlanar(DecodeFile(files[i].Path), channels,
            height.Value, width.Value, pixels.AsSpan(i * size, size)));
        int[] labels = files.Select(f => f.Label).ToArray();
        return ImageDataset.FromBytes(pixels, labels, channels, height.Value, width.Value, classNames);
    }

    private static DecodedImage DecodeFile(string path)
    {
        try
        {
            return ImagePixelConverter.Decode(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"'{path}' does not decode as an image: {e.Message}", e);
        }
    }
}
