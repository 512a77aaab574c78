using System.Text;
using FastChat.Client;

namespace FastChat.Cli.Tests;

/// <summary><c>fastchat serve</c> (balancer and chat servers in one process) as a real process, used through the client SDK.</summary>
public sealed class ServeTests
{
    [Fact]
    public async Task Serve_TwoUsers_ExchangeDirectMessagesThenStopGracefullyAndRestartWithTheSameKey()
    {
        using var folder = new TestFolder();
        string data = folder.Combine("data");
        string keyFile = Path.Combine(data, "cluster.key");

        string firstKey;
        await using (FastChatProcess serve = FastChatProcess.StartIn(folder.Path, null, "serve", "--port", "0", "--data", data))
        {
            await serve.WaitForReadyAsync();

            // The report names every endpoint: the balancer and both servers (ports the system picked), storage, key.
            IReadOnlyDictionary<string, int> servers = serve.ServerPorts();
            Assert.Equal(["server-1", "server-2"], servers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(3, new[] { serve.BalancerPort, servers["server-1"], servers["server-2"] }.Distinct().Count());
            Assert.Contains($"cluster key {keyFile} (generated)", serve.StandardOutput, StringComparison.Ordinal);
            Assert.Contains($"storage sqlite ({data})", serve.StandardOutput, StringComparison.Ordinal);

            // The key is created owner-only, before anything else could read it.
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            }

            firstKey = await File.ReadAllTextAsync(keyFile);

            await using (ChatUser alice = await ChatUser.SignUpAsync(serve.BalancerPort, "alice"))
            await using (ChatUser bob = await ChatUser.SignUpAsync(serve.BalancerPort, "bob"))
            {
                // Round-robin over two servers: the two users sit on different servers, so the message crosses a server link.
                Assert.NotEqual(alice.Session!.ServerId, bob.Session!.ServerId);

                var sent = await alice.Client.SendDirectAsync("bob", Encoding.UTF8.GetBytes("hello bob")).WaitAsync(FastChatProcess.Timeout);
                DirectMessageReceived received = await bob.WaitForAsync<DirectMessageReceived>(m => m.Id == sent);
                Assert.Equal("alice", received.From);
                Assert.Equal("hello bob", Encoding.UTF8.GetString(received.Body.Span));
                await alice.WaitForAsync<MessageDelivered>(d => d.Id == sent && d.Recipient == "bob");

                var reply = await bob.Client.SendDirectAsync("alice", Encoding.UTF8.GetBytes("hi alice")).WaitAsync(FastChatProcess.Timeout);
                DirectMessageReceived answer = await alice.WaitForAsync<DirectMessageReceived>(m => m.Id == reply);
                Assert.Equal("bob", answer.From);
            }

            serve.Signal("TERM");
            Assert.Equal(0, await serve.WaitForExitAsync());
            Assert.Contains("fastchat: stopped", serve.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", serve.StandardError, StringComparison.Ordinal);
        }

        // Second start on the same data: the same key (no new one), the same accounts.
        await using (FastChatProcess again = FastChatProcess.StartIn(folder.Path, null, "serve", "--port", "0", "--servers", "1", "--data", data))
        {
            await again.WaitForReadyAsync();
            Assert.Contains($"cluster key {keyFile}", again.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("(generated)", again.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(firstKey, await File.ReadAllTextAsync(keyFile));

            await using ChatUser alice = await ChatUser.SignInAsync(again.BalancerPort, "alice");
            Assert.Equal("server-1", alice.Session!.ServerId);

            again.Signal("INT");
            Assert.Equal(0, await again.WaitForExitAsync());
        }
    }
}
