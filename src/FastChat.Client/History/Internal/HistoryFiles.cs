using System.Runtime.Versioning;

namespace FastChat.Client.History.Internal;

/// <summary>Where history files live by default, and how they are created so that only their owner can read them.</summary>
/// <remarks>
/// On Unix the folders the history creates are 0700 and the file is 0600 from the moment it exists (it is created with
/// that mode, not created and then restricted, so nobody can open it in between); SQLite gives the <c>-wal</c> and
/// <c>-shm</c> files the database file's mode. On Windows the default folder (LocalApplicationData) is private to the
/// user already, and files inherit its access list.
/// </remarks>
internal static class HistoryFiles
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupAndOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    // SQLite's companions of a database file, which hold its recent writes.
    private static readonly string[] s_companions = ["-wal", "-shm", "-journal"];

    /// <summary>The default history file of a user under a data folder, or under the platform's default one.</summary>
    /// <exception cref="ArgumentException"><paramref name="userName"/> cannot be a folder name.</exception>
    /// <exception cref="InvalidOperationException">No data folder is given and the platform has no home folder.</exception>
    public static string DefaultPath(string userName, string? dataHome, string paramName)
    {
        ValidateFolderName(userName, paramName);

        // The XDG base directory specification says a relative XDG_DATA_HOME is invalid and must be ignored.
        string root;
        if (!string.IsNullOrEmpty(dataHome) && Path.IsPathFullyQualified(dataHome))
        {
            root = dataHome;
        }
        else if (OperatingSystem.IsWindows())
        {
            root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            if (string.IsNullOrEmpty(root))
            {
                throw new InvalidOperationException("The local application data folder is unknown; pass the history file's path explicitly.");
            }
        }
        else
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
            if (string.IsNullOrEmpty(home))
            {
                throw new InvalidOperationException("The home folder is unknown (HOME is not set); set XDG_DATA_HOME or pass the history file's path explicitly.");
            }

            root = Path.Combine(home, ".local", "share");
        }

        return Path.Combine(root, "fastchat", userName, ChatHistory.FileName);
    }

    /// <summary>Creates the file's folder and the file itself, owner-only on Unix; an existing file others can read is restricted to its owner.</summary>
    /// <exception cref="ArgumentException"><paramref name="fullPath"/> is a root folder, not a file.</exception>
    /// <exception cref="IOException">A folder or the file cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">A folder or the file cannot be created or restricted for lack of permission.</exception>
    public static void Prepare(string fullPath, string paramName)
    {
        string folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{fullPath}' names a folder, not a file.", paramName);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        CreateFoldersOwnerOnly(folder);

        try
        {
            using var created = new FileStream(fullPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = OwnerOnlyFile,
            });

            // SQLite takes an empty file for an empty database.
            return;
        }
        catch (IOException) when (File.Exists(fullPath))
        {
            // It exists already (or another process created it a moment ago): restrict it below if need be.
        }

        Restrict(fullPath);
        foreach (string companion in s_companions)
        {
            string path = fullPath + companion;
            if (File.Exists(path))
            {
                Restrict(path);
            }
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static void CreateFoldersOwnerOnly(string folder)
    {
        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only; the ones above it (fastchat/ in
        // ~/.local/share/fastchat/alice) would get the umask's default. So each missing folder is made here, outermost
        // first. Only folders created here are restricted: an existing parent (the user's home, /tmp) is not ours to change.
        var missing = new Stack<string>();
        for (string? current = folder; !string.IsNullOrEmpty(current) && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }

        while (missing.TryPop(out string? next))
        {
            // A no-op if another process made it in the meantime.
            Directory.CreateDirectory(next, OwnerOnlyFolder);
        }
    }

    private static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UnixFileMode mode = File.GetUnixFileMode(path);
        if ((mode & GroupAndOthers) != 0)
        {
            File.SetUnixFileMode(path, mode & ~GroupAndOthers);
        }
    }

    private static void ValidateFolderName(string userName, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName, paramName);
        if (userName is "." or ".."
            || userName.Length > ChatClient.MaxNameLength
            || userName.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || userName.AsSpan().IndexOfAny('/', '\\') >= 0)
        {
            HistoryErrors.ThrowBadFolderName(userName, paramName);
        }
    }
}
