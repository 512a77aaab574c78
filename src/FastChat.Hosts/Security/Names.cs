namespace FastChat.Hosts.Security;

/// <summary>
/// The rule for user and group names: 3 to 32 characters, lower-case ASCII letters, digits, <c>_</c>, <c>-</c> and
/// <c>.</c>, starting with a letter or digit. Lower case only, so that <c>Alice</c> and <c>alice</c> can never be two
/// different people.
/// </summary>
public static class Names
{
    /// <summary>The shortest allowed name.</summary>
    public const int MinLength = 3;

    /// <summary>The longest allowed name.</summary>
    public const int MaxLength = 32;

    /// <summary>Checks a name against the rule.</summary>
    /// <param name="name">The name.</param>
    /// <param name="problem">Why it is not allowed, as one sentence; empty when it is.</param>
    /// <returns><see langword="true"/> if the name is allowed.</returns>
    public static bool IsValid(string? name, out string problem)
    {
        if (string.IsNullOrEmpty(name) || name.Length < MinLength || name.Length > MaxLength)
        {
            problem = $"A name is {MinLength} to {MaxLength} characters long.";
            return false;
        }

        if (!char.IsAsciiLetterLower(name[0]) && !char.IsAsciiDigit(name[0]))
        {
            problem = "A name starts with a lower-case letter or a digit.";
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('_' or '-' or '.'))
            {
                problem = "A name may contain only lower-case letters a-z, digits, '_', '-' and '.'.";
                return false;
            }
        }

        problem = string.Empty;
        return true;
    }
}
