namespace Microsoft.ML.CompactTransformer;

/// <summary>Writes files through a temporary sibling and a rename, so readers never see half a file.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, temp => File.WriteAllBytes(temp, copy));
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, temp => File.WriteAllText(temp, text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));

    /// <summary>Lets <paramref name="write"/> fill a temporary file, then moves it onto <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        // Same folder: the rename stays on one file system and replaces the target in one step.
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
