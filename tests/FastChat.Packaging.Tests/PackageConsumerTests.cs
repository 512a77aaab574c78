using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;

namespace FastChat.Packaging.Tests;

/// <summary>
/// Packs the four libraries (Protocol, Transport, Client, Hosts) as NuGet packages into a local folder and builds a
/// consumer that restores them from there, the way a user of the packages would: it round-trips a frame, then runs a
/// balancer and a chat server in-process and has two SDK clients exchange a message through them.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(5);
    private static readonly string[] PackedProjects = ["FastChat.Protocol", "FastChat.Transport", "FastChat.Client", "FastChat.Hosts"];

    private readonly string _work = Directory.CreateTempSubdirectory("fastchat-pack-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; a leftover temp folder is harmless.
        }
    }

    [Fact]
    public async Task Packages_RestoredFromLocalFolder_ConsumerRoundTripsAFrameAndChats()
    {
        string root = RepositoryRoot();
        string feed = Path.Combine(_work, "feed");
        string version = "0.0.0-ci." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

        foreach (string project in PackedProjects)
        {
            await RunDotnetAsync(
                root,
                "pack", Path.Combine(root, "src", project, project + ".csproj"),
                "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(_work, "artifacts"),
                $"-p:Version={version}");
        }

        foreach (string project in PackedProjects)
        {
            AssertPackageContents(Path.Combine(feed, $"{project}.{version}.nupkg"), project);
        }

        string consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        string template = Path.Combine(AppContext.BaseDirectory, "Consumer");
        File.WriteAllText(
            Path.Combine(consumer, "Consumer.csproj"),
            File.ReadAllText(Path.Combine(template, "Consumer.csproj.template")).Replace("$VERSION$", version, StringComparison.Ordinal));
        File.Copy(Path.Combine(template, "Program.cs.template"), Path.Combine(consumer, "Program.cs"));
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        // Keep the consumer away from the repository's Directory.*.props and from the user's package cache, so the test
        // proves the packages are self-sufficient.
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(consumer, "Directory.Packages.props"), "<Project />");

        string output = await RunDotnetAsync(
            consumer,
            "run", "--project", Path.Combine(consumer, "Consumer.csproj"), "-c", "Release",
            $"-p:RestorePackagesPath={Path.Combine(_work, "packages")}");

        Assert.Contains("round-trip ok", output, StringComparison.Ordinal);
        Assert.Contains("chat ok", output, StringComparison.Ordinal);
        Assert.True(
            Directory.Exists(Path.Combine(_work, "packages", "fastchat.protocol", version)),
            "the consumer did not restore FastChat.Protocol from the local folder");
        Assert.True(
            Directory.Exists(Path.Combine(_work, "packages", "fastchat.hosts", version)),
            "the consumer did not restore FastChat.Hosts from the local folder");
    }

    private static void AssertPackageContents(string nupkg, string id)
    {
        Assert.True(File.Exists(nupkg), $"{nupkg} was not produced");
        using ZipArchive zip = ZipFile.OpenRead(nupkg);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            names.Add(entry.FullName);
        }

        Assert.Contains($"lib/net10.0/{id}.dll", names);
        Assert.Contains($"lib/net10.0/{id}.xml", names);
        Assert.Contains("README.md", names);

        ZipArchiveEntry nuspecEntry = zip.GetEntry($"{id}.nuspec") ?? throw new InvalidOperationException("no nuspec in " + nupkg);
        using Stream stream = nuspecEntry.Open();
        XDocument nuspec = XDocument.Load(stream);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
        Assert.NotNull(metadata.Element(ns + "repository"));
    }

    private static async Task<string> RunDotnetAsync(string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables would point the child build at the wrong SDK pieces.
        foreach (string variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            info.Environment.Remove(variable);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";

        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(ProcessTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout + await stderr;
        Assert.True(
            process.ExitCode == 0,
            new StringBuilder().Append("dotnet ").AppendJoin(' ', arguments).Append(" exited with ").Append(process.ExitCode).AppendLine().Append(output).ToString());
        return output;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FastChat.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FastChat.sln not found above " + AppContext.BaseDirectory);
    }
}
