using System.CommandLine;
using System.Globalization;
using FastChat.Client;

namespace FastChat.Cli.Commands.User;

/// <summary><c>fastchat signup --user NAME</c>: creates the account and its identity keys, prints the key fingerprint.</summary>
internal static class SignupCommand
{
    /// <summary>
    /// Lets test suites and slow machines choose a cheaper PBKDF2 cost for new accounts. Never below the floor: a lower
    /// count would make a stolen password verifier cheap to attack. Only sign-up reads it; sign-in always uses the
    /// account's own parameters.
    /// </summary>
    public const string KdfIterationsVariable = "FASTCHAT_KDF_ITERATIONS";

    public const int MinKdfIterations = 100_000;

    // The client refuses to derive with more rounds than this (ChatClient's own limit), so no account may ask for more.
    public const int MaxKdfIterations = 10_000_000;

    public static Command Create()
    {
        var common = new UserCommandOptions();
        var command = new Command(
            "signup",
            "Create an account: generates your identity keys, publishes the public ones and stores the private ones encrypted under your password. " +
            $"Prints your key fingerprint; others see it when they check your identity. The password's PBKDF2 cost is {ChatClientOptions.DefaultKdfIterations} rounds " +
            $"unless {KdfIterationsVariable} names another (at least {MinKdfIterations}).");
        common.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            int? iterations = null;
            if (Environment.GetEnvironmentVariable(KdfIterationsVariable) is { Length: > 0 } text)
            {
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < MinKdfIterations or > MaxKdfIterations)
                {
                    await Console.Error.WriteLineAsync($"fastchat: {KdfIterationsVariable} must be a whole number from {MinKdfIterations} to {MaxKdfIterations}, not '{text}'.").ConfigureAwait(false);
                    return ExitCodes.BadUsage;
                }

                iterations = value;
            }

            return await common.RunAsync(
                parse,
                signUp: true,
                static (client, output, _) =>
                {
                    output.Write(
                        "signed-up",
                        json =>
                        {
                            json.WriteString("user", client.UserName);
                            json.WriteString("fingerprint", client.Fingerprint);
                        },
                        $"signed up {client.UserName}\nfingerprint {client.Fingerprint}");
                    return Task.FromResult(ExitCodes.Success);
                },
                cancellationToken,
                options =>
                {
                    if (iterations is { } count)
                    {
                        options.Client.KdfIterations = count;
                    }
                }).ConfigureAwait(false);
        });

        return command;
    }
}
