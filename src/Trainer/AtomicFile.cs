namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Writes files and folders through a temporary sibling and a rename, so readers never see half a file and a failed
/// write leaves the previous file (or folder) exactly as it was and no temporary behind. Every writer of this library
/// goes through here.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Fault injection for tests: when set on the writing flow, it is called with the fully written temporary just
    /// before the temporary replaces the target, and may throw to fail the write there, as a full disk would. Being
    /// async-local, it reaches writes made on the test's own flow (tasks it starts included) and no other.
    /// </summary>
    internal static readonly AsyncLocal<Action<string>?> BeforeCommit = new();

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, temp => File.WriteAllBytes(temp, copy));
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, temp => File.WriteAllText(temp, text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));

    /// <summary>Lets <paramref name="write"/> fill a temporary file, then moves it onto <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The folder cannot be created (e.g. part of its path is a file), <paramref name="path"/> is a folder, or writing failed.</exception>
    public static void Write(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"Cannot write the file '{full}': a folder of that name exists.");
        var temp = TemporarySibling(full);
        try
        {
            write(temp);
            BeforeCommit.Value?.Invoke(temp);
            // Same folder: the rename stays on one file system and replaces the target in one step.
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>
    /// Lets <paramref name="write"/> fill a new temporary folder, then puts it in place of the folder <paramref name="path"/>.
    /// An existing folder of that name is replaced; should the swap fail, the old folder is moved back.
    /// </summary>
    /// <exception cref="IOException">The parent folder cannot be created (e.g. part of its path is a file), <paramref name="path"/> is a file, or writing failed.</exception>
    public static void WriteFolder(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (File.Exists(full))
            throw new IOException($"Cannot write the folder '{full}': a file of that name exists.");
        var temp = TemporarySibling(full);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            BeforeCommit.Value?.Invoke(temp);
            if (!Directory.Exists(full))
            {
                Directory.Move(temp, full);
                return;
            }
            // A folder cannot be renamed over another: move the old one aside first, and back should the swap fail,
            // so that the final name never holds a partial folder nor loses the complete one.
            string old = temp + ".old";
            Directory.Move(full, old);
            try
            {
                Directory.Move(temp, full);
            }
            catch
            {
                Directory.Move(old, full);
                throw;
            }
            Directory.Delete(old, recursive: true);
        }
        finally
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>
    /// Deletes temporaries that a write of <paramref name="path"/> left behind when its process was killed; call it only
    /// where no other process writes <paramref name="path"/> at the same time.
    /// </summary>
    public static void DeleteLeftovers(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            return;
        foreach (var leftover in Directory.EnumerateFileSystemEntries(folder, LeftoverPattern(full)))
        {
            if (Directory.Exists(leftover))
                Directory.Delete(leftover, recursive: true);
            else
                File.Delete(leftover);
        }
    }

    // A hidden sibling: same folder, so the final rename is atomic; unique, so concurrent writers do not collide.
    private static string TemporarySibling(string full)
    {
        var folder = Path.GetDirectoryName(full)!;
        CreateFolder(folder, full);
        return Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }

    private static string LeftoverPattern(string full) => $".{Path.GetFileName(full)}.*.tmp*";

    private static void CreateFolder(string folder, string target)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException e)
        {
            // The usual cause: part of the folder's path is a file. Name it, not only the folder.
            string? file = folder;
            while (file is not null && !File.Exists(file))
                file = Path.GetDirectoryName(file);
            throw new IOException(file is null
                ? $"Cannot write '{target}': its folder '{folder}' cannot be created ({e.Message})."
                : $"Cannot write '{target}': '{file}' is a file, not a folder.", e);
        }
    }
}
