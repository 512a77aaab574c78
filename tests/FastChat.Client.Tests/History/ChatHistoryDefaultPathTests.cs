using FastChat.Client.History;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistoryDefaultPathTests
{
    [Fact]
    public void DefaultPath_DataHomeGiven_UserFolderUnderItsFastchatFolder()
    {
        string dataHome = Path.Combine(Path.GetTempPath(), "data-home");

        Assert.Equal(Path.Combine(dataHome, "fastchat", "alice", "history.db"), ChatHistory.DefaultPath("alice", dataHome));
    }

    [SkippableFact]
    public void DefaultPath_NoDataHome_UnderLocalShareInTheHomeFolder()
    {
        Skip.If(OperatingSystem.IsWindows(), "XDG layout is the Unix default.");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);

        Assert.Equal(Path.Combine(home, ".local", "share", "fastchat", "bob", "history.db"), ChatHistory.DefaultPath("bob", null));
    }

    [SkippableFact]
    public void DefaultPath_OnWindowsWithoutDataHome_UnderLocalApplicationData()
    {
        Skip.IfNot(OperatingSystem.IsWindows(), "Windows layout only.");
        string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);

        Assert.Equal(Path.Combine(local, "fastchat", "bob", "history.db"), ChatHistory.DefaultPath("bob", null));
    }

    /// <summary>Guards the XDG rule that a relative (or empty) XDG_DATA_HOME is invalid and ignored, so the history never lands relative to the working folder.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("relative/data")]
    [InlineData("./data")]
    public void DefaultPath_EmptyOrRelativeDataHome_Ignored(string dataHome)
    {
        Assert.Equal(ChatHistory.DefaultPath("alice", null), ChatHistory.DefaultPath("alice", dataHome));
        Assert.True(Path.IsPathFullyQualified(ChatHistory.DefaultPath("alice", dataHome)));
    }

    [SkippableFact]
    public void DefaultPath_UserNameOnly_ReadsXdgDataHomeFromTheEnvironment()
    {
        Skip.If(OperatingSystem.IsWindows(), "XDG_DATA_HOME is read on Unix only.");

        // Compared with the explicit overload, without changing the process environment (tests run in parallel).
        Assert.Equal(ChatHistory.DefaultPath("alice", Environment.GetEnvironmentVariable("XDG_DATA_HOME")), ChatHistory.DefaultPath("alice"));
    }

    /// <summary>Guards against a user name escaping the history folder or naming another user's file.</summary>
    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../bob")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a\0b")]
    public void DefaultPath_UnsafeUserName_ThrowsArgumentException(string userName)
    {
        string dataHome = Path.Combine(Path.GetTempPath(), "data-home");

        Assert.ThrowsAny<ArgumentException>(() => ChatHistory.DefaultPath(userName, dataHome));
        Assert.ThrowsAny<ArgumentException>(() => ChatHistory.DefaultPath(userName));
    }

    [Fact]
    public void DefaultPath_OverlongUserName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => ChatHistory.DefaultPath(new string('a', 129), Path.GetTempPath()));
    }
}
