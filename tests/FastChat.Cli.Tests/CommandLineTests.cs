using System.Net;
using System.Net.Sockets;

namespace FastChat.Cli.Tests;

/// <summary>Bad command lines and bad configuration: exit code 2 and one sentence that says what is wrong, never a stack trace.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData(new[] { "serve", "--port", "99999" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "serve", "--host", "not-an-address" }, "--host must be an IP address")]
    [InlineData(new[] { "serve", "--strategy", "fastest" }, "--strategy must be one of round-robin, random, least-connections, least-cpu, least-memory, power-of-two, not 'fastest'")]
    [InlineData(new[] { "serve", "--storage", "mongodb" }, "--storage must be sqlite or postgres, not 'mongodb'")]
    [InlineData(new[] { "serve", "--servers", "0" }, "--servers must be between 1 and 64")]
    [InlineData(new[] { "serve", "--port", "65535" }, "leaves no room for 2 chat servers")]
    [InlineData(new[] { "balancer", "--port", "-1" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "balancer", "--strategy", "least_sockets" }, "--strategy must be one of")]
    [InlineData(new[] { "server", "--id", "a b" }, "--id must be 1-64 letters")]
    [InlineData(new[] { "server", "--id", "a", "--port", "70000" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "server", "--id", "a", "--balancer", "localhost" }, "is not HOST:PORT")]
    [InlineData(new[] { "server", "--id", "a", "--storage", "oracle" }, "--storage must be sqlite or postgres")]
    [InlineData(new[] { "ping", "localhost" }, "is not HOST:PORT")]
    [InlineData(new[] { "ping", "127.0.0.1:0" }, "is not a port between 1 and 65535")]
    [InlineData(new[] { "ping", "127.0.0.1:7700", "--count", "0" }, "--count must be between 1 and 100000")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    public async Task CommandLine_BadArgument_ExitsTwoAndSaysWhatIsWrong(string[] arguments, string expected)
    {
        using var folder = new TestFolder();

        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunInAsync(folder.Path, null, arguments);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Settings that only the configuration as a whole can judge (a provider without its connection string, a role without
    /// an id or a key, values from the environment): a clear start-up error naming the setting, exit 2, nothing listening.
    /// </summary>
    [Theory]
    [InlineData("serve-postgres-without-connection-string")]
    [InlineData("server-without-id")]
    [InlineData("balancer-without-key")]
    [InlineData("server-without-key")]
    [InlineData("balancer-key-file-missing")]
    [InlineData("balancer-key-not-base64")]
    [InlineData("serve-strategy-from-environment")]
    [InlineData("serve-port-from-environment")]
    [InlineData("server-balancer-from-environment")]
    public async Task Configuration_Invalid_ExitsTwoWithOneClearMessage(string kind)
    {
        using var folder = new TestFolder();
        string data = folder.Combine("data");
        Dictionary<string, string?> environment = [];
        string[] arguments;
        string expected;
        switch (kind)
        {
            case "serve-postgres-without-connection-string":
                arguments = ["serve", "--port", "0", "--data", data, "--storage", "postgres"];
                expected = "FastChat:Storage:ConnectionString is required when FastChat:Storage:Provider is postgres";
                break;
            case "server-without-id":
                arguments = ["server", "--data", data];
                expected = "the server needs an id that is unique in the cluster: pass --id ID";
                break;
            case "balancer-without-key":
                arguments = ["balancer", "--port", "0", "--data", data];
                expected = "the balancer needs the cluster key shared by every balancer and server: pass --cluster-key-file FILE or set FASTCHAT__CLUSTER__KEY";
                break;
            case "server-without-key":
                arguments = ["server", "--id", "s1", "--data", data];
                expected = "the server needs the cluster key";
                break;
            case "balancer-key-file-missing":
                arguments = ["balancer", "--port", "0", "--data", data, "--cluster-key-file", folder.Combine("absent.key")];
                expected = $"FastChat:Cluster:KeyFile '{folder.Combine("absent.key")}' does not exist";
                break;
            case "balancer-key-not-base64":
                arguments = ["balancer", "--port", "0", "--data", data];
                environment["FASTCHAT__CLUSTER__KEY"] = "not a key";
                expected = "FastChat:Cluster:Key is not valid";
                break;
            case "serve-strategy-from-environment":
                arguments = ["serve", "--port", "0", "--data", data];
                environment["FASTCHAT__BALANCER__STRATEGY"] = "fastest";
                expected = "FastChat:Balancer:Strategy 'fastest' is not a balancing strategy";
                break;
            case "serve-port-from-environment":
                arguments = ["serve", "--data", data];
                environment["FASTCHAT__BALANCER__PORT"] = "seventy";
                expected = "Failed to convert configuration value 'seventy' at 'FastChat:Balancer:Port'";
                break;
            default:
                arguments = ["server", "--id", "s1", "--port", "0", "--data", data];
                environment["FASTCHAT__CLUSTER__KEY"] = Convert.ToBase64String(new byte[32]);
                environment["FASTCHAT__SERVER__BALANCER"] = "balancer.example";
                expected = "FastChat:Server:Balancer 'balancer.example' is not HOST:PORT";
                break;
        }

        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunInAsync(folder.Path, environment, arguments);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("fastchat: " + expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortInUse_ExitsOneWithAClearError()
    {
        using var folder = new TestFolder();
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        (int exitCode, _, string stderr) = await FastChatProcess.RunInAsync(folder.Path, null, "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--servers", "1", "--data", folder.Combine("data"));

        Assert.Equal(1, exitCode);
        Assert.Contains("fastchat: cannot start: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_NothingListening_ExitsOneWithAClearError()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        (int exitCode, _, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{port}");

        Assert.Equal(1, exitCode);
        Assert.Contains($"cannot connect to 127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }
}
