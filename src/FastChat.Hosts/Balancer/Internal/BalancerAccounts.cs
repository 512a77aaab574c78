using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>A sign-up with its binary fields copied out of the frame (it outlives the payload across store calls).</summary>
internal sealed record SignUpRequest(
    string UserName,
    string KdfAlgorithm,
    byte[] KdfSalt,
    int KdfIterations,
    byte[] AuthKey,
    byte[] AgreementPublicKey,
    byte[] SigningPublicKey,
    byte[] WrappedPrivateKeys)
{
    public static SignUpRequest Copy(in SignUp message) => new(
        message.UserName,
        message.KdfAlgorithm,
        message.KdfSalt.ToArray(),
        message.KdfIterations,
        message.AuthKey.ToArray(),
        message.AgreementPublicKey.ToArray(),
        message.SigningPublicKey.ToArray(),
        message.WrappedPrivateKeys.ToArray());
}

/// <summary>What a sign-up or sign-in came to: an assignment, or the error to send.</summary>
internal readonly struct SignInOutcome
{
    private SignInOutcome(ErrorCode error, string message, Account? account, ServerRoute? route, byte[]? token, DateTime expiresAt)
    {
        Error = error;
        Message = message;
        Account = account;
        Route = route;
        Token = token;
        ExpiresAt = expiresAt;
    }

    public bool Succeeded => Account is not null;

    public ErrorCode Error { get; }

    public string Message { get; }

    public Account? Account { get; }

    public ServerRoute? Route { get; }

    public byte[]? Token { get; }

    public DateTime ExpiresAt { get; }

    public static SignInOutcome Failure(ErrorCode error, string message) => new(error, message, null, null, null, default);

    public static SignInOutcome Success(Account account, ServerRoute route, byte[] token, DateTime expiresAt) =>
        new(default, string.Empty, account, route, token, expiresAt);

    public Assigned ToAssigned() => new()
    {
        UserName = Account!.UserName,
        ServerId = Route!.ServerId,
        Host = Route.Host,
        Port = Route.Port,
        SessionToken = new ReadOnlySequence<byte>(Token!),
        ExpiresAt = ExpiresAt,
        WrappedPrivateKeys = new ReadOnlySequence<byte>(Account.WrappedPrivateKeys),
        AgreementPublicKey = new ReadOnlySequence<byte>(Account.AgreementPublicKey),
        SigningPublicKey = new ReadOnlySequence<byte>(Account.SigningPublicKey),
    };
}

/// <summary>
/// Accounts at the balancer: key-derivation parameters, sign-up and sign-in, ending in an assignment to a chat server.
/// The password never reaches the balancer: clients derive <c>authKey</c> with PBKDF2 and HKDF, and the balancer stores
/// and checks only <c>SHA-256(serverSalt || authKey)</c>.
/// </summary>
internal sealed class BalancerAccounts
{
    /// <summary>The only key-derivation function of protocol version 1.</summary>
    public const string KdfAlgorithm = "pbkdf2-sha256";

    /// <summary>The iteration count announced for unknown users: the client SDK's default, which most real accounts carry.</summary>
    public const int DefaultKdfIterations = 600_000;

    public const int AuthKeyLength = 32;
    public const int MinKdfSaltLength = 16;
    public const int MaxKdfSaltLength = 64;
    public const int ServerSaltLength = 16;
    public const int FakeSaltLength = 16;

    // Generous bounds on the opaque key blobs (a P-256 SubjectPublicKeyInfo is 91 bytes, the two wrapped PKCS#8 keys
    // a few hundred): large enough for any reasonable key format, small enough that accounts cannot be used to park
    // megabytes in the database.
    public const int MaxPublicKeyLength = 4 * 1024;
    public const int MaxWrappedPrivateKeysLength = 64 * 1024;

    public const string WrongCredentialsMessage = "Wrong user name or password.";

    private static readonly byte[] s_fakeSaltLabel = Encoding.ASCII.GetBytes("kdf-salt");

    private readonly BalancerOptions _options;
    private readonly IChatStore _store;
    private readonly ClusterKey _clusterKey;
    private readonly ServerRegistry _registry;
    private readonly SignInRateLimiter _rateLimiter;
    private readonly BalancerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    // Compared against when the user does not exist, so that an unknown name costs the same hash and comparison
    // as a wrong key.
    private readonly byte[] _dummySalt = RandomNumberGenerator.GetBytes(ServerSaltLength);
    private readonly byte[] _dummyHash = RandomNumberGenerator.GetBytes(SHA256.HashSizeInBytes);

    public BalancerAccounts(
        BalancerOptions options,
        IChatStore store,
        ClusterKey clusterKey,
        ServerRegistry registry,
        SignInRateLimiter rateLimiter,
        BalancerMetrics metrics,
        ILogger logger,
        TimeProvider timeProvider)
    {
        _options = options;
        _store = store;
        _clusterKey = clusterKey;
        _registry = registry;
        _rateLimiter = rateLimiter;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>The iteration count announced for users that do not exist.</summary>
    public int FakeIterations => Math.Max(DefaultKdfIterations, _options.MinKdfIterations);

    public void RecordInvalidSignUp() => _metrics.SignUpInvalid();

    public void RecordInvalidSignIn() => _metrics.SignInInvalid();

    public void RecordSignUpError() => _metrics.SignUpError();

    public void RecordSignInError() => _metrics.SignInError();

    /// <summary>Checks a sign-up's fields before anything is copied or stored.</summary>
    /// <param name="message">The sign-up as read from the frame.</param>
    /// <param name="minKdfIterations">The smallest iteration count accepted.</param>
    /// <param name="code">The error code when it is refused.</param>
    /// <param name="problem">Why it is refused, as one sentence.</param>
    /// <returns><see langword="true"/> if it may proceed.</returns>
    public static bool TryValidateSignUp(in SignUp message, int minKdfIterations, out ErrorCode code, out string problem)
    {
        if (!Names.IsValid(message.UserName, out problem))
        {
            code = ErrorCode.InvalidUserName;
            return false;
        }

        code = ErrorCode.ProtocolViolation;
        if (!string.Equals(message.KdfAlgorithm, KdfAlgorithm, StringComparison.Ordinal))
        {
            problem = $"The key-derivation function must be {KdfAlgorithm}, not '{message.KdfAlgorithm}'.";
            return false;
        }

        if (message.KdfIterations < minKdfIterations)
        {
            problem = $"The key derivation needs at least {minKdfIterations} iterations; {message.KdfIterations} is too weak.";
            return false;
        }

        if (message.KdfSalt.Length is < MinKdfSaltLength or > MaxKdfSaltLength)
        {
            problem = $"The key-derivation salt must be {MinKdfSaltLength} to {MaxKdfSaltLength} bytes; it is {message.KdfSalt.Length}.";
            return false;
        }

        if (message.AuthKey.Length != AuthKeyLength)
        {
            problem = $"The authentication key must be {AuthKeyLength} bytes; it is {message.AuthKey.Length}.";
            return false;
        }

        if (message.AgreementPublicKey.Length > MaxPublicKeyLength || message.SigningPublicKey.Length > MaxPublicKeyLength)
        {
            problem = $"A public key is at most {MaxPublicKeyLength} bytes.";
            return false;
        }

        if (message.WrappedPrivateKeys.Length > MaxWrappedPrivateKeysLength)
        {
            problem = $"The wrapped private keys are at most {MaxWrappedPrivateKeysLength} bytes; they are {message.WrappedPrivateKeys.Length}.";
            return false;
        }

        code = default;
        problem = string.Empty;
        return true;
    }

    /// <summary><c>SHA-256(serverSalt || authKey)</c>, the only form in which the authentication key is kept.</summary>
    public static byte[] HashAuthKey(ReadOnlySpan<byte> serverSalt, ReadOnlySpan<byte> authKey)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(serverSalt);
        hash.AppendData(authKey);
        return hash.GetHashAndReset();
    }

    /// <summary>The salt announced for a user that does not exist: <c>HMAC(clusterKey, "kdf-salt" || user)[..16]</c>, the same on every request and every balancer of the cluster, so asking twice does not reveal that the user is unknown.</summary>
    public byte[] FakeSalt(string userName)
    {
        int nameLength = Encoding.UTF8.GetByteCount(userName);
        byte[] data = new byte[s_fakeSaltLabel.Length + nameLength];
        s_fakeSaltLabel.CopyTo(data, 0);
        Encoding.UTF8.GetBytes(userName, data.AsSpan(s_fakeSaltLabel.Length));
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _clusterKey.ComputeHmac(data, mac);
        return mac[..FakeSaltLength].ToArray();
    }

    /// <summary>The account's key-derivation parameters, or fake but stable ones for an unknown user.</summary>
    /// <exception cref="ChatStoreException">The store failed.</exception>
    public async Task<KdfParameters> GetKdfParametersAsync(string userName, CancellationToken cancellationToken)
    {
        Account? account = Names.IsValid(userName, out _)
            ? await _store.GetAccountAsync(userName, cancellationToken).ConfigureAwait(false)
            : null;
        if (account is null)
        {
            return new KdfParameters
            {
                UserName = userName,
                Algorithm = KdfAlgorithm,
                Salt = new ReadOnlySequence<byte>(FakeSalt(userName)),
                Iterations = FakeIterations,
            };
        }

        return new KdfParameters
        {
            UserName = account.UserName,
            Algorithm = account.KdfAlgorithm,
            Salt = new ReadOnlySequence<byte>(account.KdfSalt),
            Iterations = account.KdfIterations,
        };
    }

    /// <summary>Creates the account (the request is already validated) and signs it in.</summary>
    /// <exception cref="ChatStoreException">The store failed.</exception>
    public async Task<SignInOutcome> SignUpAsync(SignUpRequest request, EndPoint? remoteEndPoint, CancellationToken cancellationToken)
    {
        // Refuse before creating the account when nobody could serve it: the client can then retry the same sign-up
        // instead of finding its name taken by its own half-finished attempt.
        if (!_registry.HasLiveServer())
        {
            _metrics.SignUpNoServer();
            BalancerLog.NoServerAvailable(_logger, request.UserName);
            return NoServer();
        }

        byte[] serverSalt = RandomNumberGenerator.GetBytes(ServerSaltLength);
        var account = new Account(
            request.UserName,
            request.KdfAlgorithm,
            request.KdfSalt,
            request.KdfIterations,
            serverSalt,
            HashAuthKey(serverSalt, request.AuthKey),
            request.AgreementPublicKey,
            request.SigningPublicKey,
            request.WrappedPrivateKeys,
            _timeProvider.GetUtcNow().UtcDateTime);
        CryptographicOperations.ZeroMemory(request.AuthKey);

        if (!await _store.CreateAccountAsync(account, cancellationToken).ConfigureAwait(false))
        {
            _metrics.SignUpExists();
            return SignInOutcome.Failure(ErrorCode.UserExists, $"The user name '{request.UserName}' is taken.");
        }

        _metrics.SignUpSucceeded();
        BalancerLog.SignedUp(_logger, account.UserName, remoteEndPoint);
        return Assign(account, remoteEndPoint);
    }

    /// <summary>Checks the user's key (after the rate limit) and assigns a server.</summary>
    /// <param name="userName">The user name the client gave.</param>
    /// <param name="authKey">The 32-byte key the client derived; cleared here once checked.</param>
    /// <param name="remoteEndPoint">The client's endpoint, for the per-address limit and logs.</param>
    /// <param name="cancellationToken">Cancels the store lookup.</param>
    /// <exception cref="ChatStoreException">The store failed.</exception>
    public async Task<SignInOutcome> SignInAsync(string userName, byte[] authKey, EndPoint? remoteEndPoint, CancellationToken cancellationToken)
    {
        IPAddress? address = SignInRateLimiter.AddressOf(remoteEndPoint);
        if (_rateLimiter.IsLimited(userName, address, out TimeSpan retryAfter))
        {
            _metrics.SignInRateLimited();
            BalancerLog.SignInRateLimited(_logger, userName, remoteEndPoint, retryAfter);
            int seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            return SignInOutcome.Failure(ErrorCode.RateLimited, $"Too many failed sign-ins; try again in {seconds} s.");
        }

        bool validName = Names.IsValid(userName, out _);
        Account? account = validName ? await _store.GetAccountAsync(userName, cancellationToken).ConfigureAwait(false) : null;
        bool matches = CheckKey(account, authKey);
        CryptographicOperations.ZeroMemory(authKey);
        if (account is null || !matches)
        {
            // A name that can never exist is counted against the address only, so garbage names do not fill the
            // per-user table.
            _rateLimiter.RecordFailure(validName ? userName : null, address, out bool userLimited, out bool addressLimited);
            _metrics.SignInFailed();
            BalancerLog.SignInFailed(_logger, userName, remoteEndPoint);
            if (userLimited)
            {
                BalancerLog.UserLimited(_logger, userName, _options.MaxSignInFailuresPerUser, _options.SignInFailureWindow);
            }

            if (addressLimited)
            {
                BalancerLog.AddressLimited(_logger, address!, _options.MaxSignInFailuresPerAddress, _options.SignInFailureWindow);
            }
            return SignInOutcome.Failure(ErrorCode.AuthenticationFailed, WrongCredentialsMessage);
        }

        _rateLimiter.RecordSuccess(userName);
        return Assign(account, remoteEndPoint);
    }

    private static SignInOutcome NoServer() =>
        SignInOutcome.Failure(ErrorCode.NoServerAvailable, "No chat server is available right now; try again shortly.");

    private bool CheckKey(Account? account, byte[] authKey)
    {
        // The same work whether or not the account exists: hash, then a constant-time comparison.
        byte[] salt = account?.ServerSalt ?? _dummySalt;
        byte[] expected = account?.AuthKeyHash ?? _dummyHash;
        byte[] actual = HashAuthKey(salt, authKey);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && account is not null;
    }

    private SignInOutcome Assign(Account account, EndPoint? remoteEndPoint)
    {
        if (!_registry.TryAssign(out ServerRoute? route))
        {
            _metrics.SignInNoServer();
            BalancerLog.NoServerAvailable(_logger, account.UserName);
            return NoServer();
        }

        DateTime expiresAt = _timeProvider.GetUtcNow().UtcDateTime + _options.TokenLifetime;
        byte[] token = SessionTokens.Issue(_clusterKey, account.UserName, route!.ServerId, expiresAt);
        _metrics.SignInSucceeded();
        _metrics.Assigned(route.ServerId);
        BalancerLog.SignedIn(_logger, account.UserName, remoteEndPoint, route.ServerId);
        return SignInOutcome.Success(account, route, token, expiresAt);
    }
}
