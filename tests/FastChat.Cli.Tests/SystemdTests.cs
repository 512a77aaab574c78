using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace FastChat.Cli.Tests;

/// <summary>The systemd units in deploy/systemd and the sd_notify protocol of the real program.</summary>
public sealed class SystemdTests
{
    private static readonly string s_unitFolder = FindUnitFolder();

    public static TheoryData<string, string> Units => new()
    {
        { "fastchat-balancer.service", "balancer" },
        { "fastchat-server@.service", "server" },
    };

    [Theory]
    [MemberData(nameof(Units))]
    public void UnitFile_KeySettings_AreThoseOfANotifyServiceWithHardening(string file, string role)
    {
        UnitFile unit = UnitFile.Parse(Path.Combine(s_unitFolder, file));

        Assert.Equal("notify", unit.Single("Service", "Type"));
        Assert.Equal("main", unit.Single("Service", "NotifyAccess"));
        Assert.True(ParseSeconds(unit.Single("Service", "WatchdogSec")) > 0, "WatchdogSec must be set");
        Assert.Equal("on-failure", unit.Single("Service", "Restart"));
        Assert.Equal("yes", unit.Single("Service", "DynamicUser"));
        Assert.Equal("fastchat", unit.Single("Service", "StateDirectory"));
        Assert.Contains(unit.All("Service", "EnvironmentFile"), value => value.TrimStart('-').StartsWith("/etc/fastchat/", StringComparison.Ordinal));
        Assert.Equal("cluster.key:/etc/fastchat/cluster.key", unit.Single("Service", "LoadCredential"));

        Assert.Equal("yes", unit.Single("Service", "NoNewPrivileges"));
        Assert.Equal("strict", unit.Single("Service", "ProtectSystem"));
        Assert.Equal("yes", unit.Single("Service", "ProtectHome"));
        Assert.Equal("yes", unit.Single("Service", "PrivateTmp"));
        Assert.Equal("yes", unit.Single("Service", "PrivateDevices"));
        Assert.Equal(["AF_INET", "AF_INET6", "AF_UNIX"], unit.Single("Service", "RestrictAddressFamilies").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(string.Empty, unit.Single("Service", "CapabilityBoundingSet"));
        Assert.Equal("@system-service", unit.Single("Service", "SystemCallFilter"));

        // The JIT writes code and then executes it: this option would kill the process at start-up.
        Assert.Empty(unit.All("Service", "MemoryDenyWriteExecute"));
        Assert.Contains("MemoryDenyWriteExecute", File.ReadAllText(Path.Combine(s_unitFolder, file)), StringComparison.Ordinal);

        string[] exec = unit.Single("Service", "ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(role, exec[2]);
        Assert.Equal("multi-user.target", unit.Single("Install", "WantedBy"));
    }

    /// <summary>Guards the units against naming an option the program does not have: the unit's own command line must parse.</summary>
    [Theory]
    [MemberData(nameof(Units))]
    public async Task UnitFile_ExecStart_IsACommandLineTheProgramAccepts(string file, string role)
    {
        UnitFile unit = UnitFile.Parse(Path.Combine(s_unitFolder, file));
        string[] exec = unit.Single("Service", "ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // Skip "/usr/bin/dotnet /opt/fastchat/fastchat.dll"; fill in the specifiers as systemd would.
        string[] arguments = [.. exec.Skip(2).Select(ExpandSpecifiers), "--help"];
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.True(exitCode == 0, $"'{string.Join(' ', arguments)}' exited with {exitCode}: {stderr}");
        Assert.Contains(role, stdout, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Units))]
    public async Task UnitFile_SystemdAnalyzeVerify_ReportsNothing(string file, string role)
    {
        _ = role;
        string? analyze = FindOnPath("systemd-analyze");
        Skip.If(analyze is null, "systemd-analyze is not installed: the parse checks above still run");

        // verify also checks that ExecStart's program exists: point it at this machine's dotnet.
        using var folder = new TestFolder();
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : FindOnPath("dotnet")!;
        string text = File.ReadAllText(Path.Combine(s_unitFolder, file)).Replace("/usr/bin/dotnet", dotnet, StringComparison.Ordinal);
        string target = folder.Combine(file.Replace("@.", "@1.", StringComparison.Ordinal));
        File.WriteAllText(target, text);

        var info = new ProcessStartInfo(analyze!, ["verify", target]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(FastChatProcess.Timeout);
        string output = await stderr + await stdout;

        Assert.True(process.ExitCode == 0, output);

        // Unknown keys and bad values are only warnings (exit code 0): any line about our file is a failure.
        string unitName = Path.GetFileName(target);
        Assert.DoesNotContain(output.Split('\n'), line => line.Contains(unitName, StringComparison.Ordinal) || line.Contains(target, StringComparison.Ordinal));
    }

    /// <summary>
    /// The real process under a fake systemd: a datagram socket bound by the test receives READY=1 once serve is up,
    /// watchdog pings at half WATCHDOG_USEC, and STOPPING=1 on SIGTERM. Both address forms systemd uses are covered.
    /// </summary>
    [Theory]
    [InlineData("path")]
    [InlineData("abstract")]
    public async Task Serve_WithNotifySocket_SendsReadyWatchdogAndStopping(string addressKind)
    {
        using var folder = new TestFolder();
        string address = addressKind == "path" ? folder.Combine("notify.sock") : "@fastchat-tests-" + Guid.NewGuid().ToString("N");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address));

        var environment = new Dictionary<string, string?>
        {
            ["NOTIFY_SOCKET"] = address,
            ["WATCHDOG_USEC"] = "400000",
        };
        await using FastChatProcess serve = FastChatProcess.StartIn(folder.Path, environment, "serve", "--port", "0", "--servers", "1", "--data", folder.Combine("data"));

        var received = new List<string>();
        await ReceiveUntilAsync(socket, received, "READY=1", serve);
        await serve.WaitForReadyAsync();
        await ReceiveUntilAsync(socket, received, "WATCHDOG=1", serve);

        serve.Signal("TERM");
        await ReceiveUntilAsync(socket, received, "STOPPING=1", serve);
        Assert.Equal(0, await serve.WaitForExitAsync());
        Assert.Contains("fastchat: stopped", serve.StandardOutput, StringComparison.Ordinal);

        int ready = received.FindIndex(m => m.Contains("READY=1", StringComparison.Ordinal));
        int stopping = received.FindIndex(m => m.Contains("STOPPING=1", StringComparison.Ordinal));
        Assert.True(ready < stopping, string.Join(" | ", received));
    }

    private static async Task ReceiveUntilAsync(Socket socket, List<string> received, string expected, FastChatProcess process)
    {
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(FastChatProcess.Timeout);
        while (!received.Exists(m => m.Split('\n').Contains(expected)))
        {
            int length;
            try
            {
                length = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No {expected} within {FastChatProcess.Timeout}; received [{string.Join(" | ", received)}]\n{process.Output}");
            }

            received.Add(Encoding.UTF8.GetString(buffer, 0, length));
        }
    }

    private static string ExpandSpecifiers(string argument) => argument
        .Replace("%S", "/var/lib", StringComparison.Ordinal)
        .Replace("%d", "/run/credentials/fastchat.service", StringComparison.Ordinal)
        .Replace("%l", "host", StringComparison.Ordinal)
        .Replace("%i", "1", StringComparison.Ordinal);

    private static double ParseSeconds(string value) =>
        double.Parse(value.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);

    private static string? FindOnPath(string program)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FindUnitFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "deploy", "systemd");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("deploy/systemd not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A systemd unit file: sections of KEY=VALUE lines, comments and blank lines skipped, repeated keys kept.</summary>
    private sealed class UnitFile
    {
        private readonly List<(string Section, string Key, string Value)> _entries = [];

        public static UnitFile Parse(string path)
        {
            var unit = new UnitFile();
            string section = string.Empty;
            foreach (string raw in File.ReadAllLines(path))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line[0] is '#' or ';')
                {
                    continue;
                }

                if (line[0] == '[')
                {
                    Assert.EndsWith("]", line);
                    section = line[1..^1];
                    continue;
                }

                int equals = line.IndexOf('=', StringComparison.Ordinal);
                Assert.True(equals > 0, $"Not KEY=VALUE: '{line}'");
                Assert.False(line.EndsWith('\\'), "Continuation lines are not used in FastChat's units");
                unit._entries.Add((section, line[..equals].Trim(), line[(equals + 1)..].Trim()));
            }

            return unit;
        }

        public string[] All(string section, string key) =>
            _entries.Where(e => e.Section == section && e.Key == key).Select(e => e.Value).ToArray();

        public string Single(string section, string key) => Assert.Single(All(section, key));
    }
}
