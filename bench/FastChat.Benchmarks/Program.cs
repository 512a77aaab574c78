using BenchmarkDotNet.Running;

namespace FastChat.Benchmarks;

/// <summary>Runs the suites: <c>dotnet run -c Release --project bench/FastChat.Benchmarks -- --filter *</c>.</summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
