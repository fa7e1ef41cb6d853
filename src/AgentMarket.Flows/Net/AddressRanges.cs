using System.Net;
using System.Net.Sockets;

namespace AgentMarket.Flows.Net;

/// <summary>
/// Addresses an outbound request must never reach unless the operator allows them: loopback, private, link-local
/// (which includes the cloud metadata service 169.254.169.254), unique-local, CGNAT, multicast, unspecified,
/// reserved and documentation ranges, and IPv6 forms that embed such an IPv4 address.
/// </summary>
public static class AddressRanges
{
    static readonly IPNetwork[] BlockedV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),          // "this network", includes the unspecified address
        IPNetwork.Parse("10.0.0.0/8"),         // private
        IPNetwork.Parse("100.64.0.0/10"),      // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),        // loopback
        IPNetwork.Parse("169.254.0.0/16"),     // link-local, cloud metadata (169.254.169.254)
        IPNetwork.Parse("172.16.0.0/12"),      // private
        IPNetwork.Parse("192.0.0.0/24"),       // IETF protocol assignments (includes Oracle/Azure metadata helpers)
        IPNetwork.Parse("192.0.2.0/24"),       // documentation
        IPNetwork.Parse("192.88.99.0/24"),     // 6to4 relay anycast
        IPNetwork.Parse("192.168.0.0/16"),     // private
        IPNetwork.Parse("198.18.0.0/15"),      // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),    // documentation
        IPNetwork.Parse("203.0.113.0/24"),     // documentation
        IPNetwork.Parse("224.0.0.0/4"),        // multicast
        IPNetwork.Parse("240.0.0.0/4"),        // reserved, includes broadcast
    ];

    static readonly IPNetwork[] BlockedV6 =
    [
        IPNetwork.Parse("::/96"),              // unspecified, loopback (::1) and IPv4-compatible addresses
        IPNetwork.Parse("100::/64"),           // discard-only
        IPNetwork.Parse("2001::/32"),          // Teredo: embeds an obfuscated IPv4 address
        IPNetwork.Parse("2001:db8::/32"),      // documentation
        IPNetwork.Parse("fc00::/7"),           // unique-local (AWS metadata fd00:ec2::254 lives here)
        IPNetwork.Parse("fe80::/10"),          // link-local
        IPNetwork.Parse("fec0::/10"),          // deprecated site-local
        IPNetwork.Parse("ff00::/8"),           // multicast
    ];

    static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>True when <paramref name="address"/> is an ordinary public address.</summary>
    public static bool IsPublic(IPAddress address) => BlockReason(address) is null;

    /// <summary>Why <paramref name="address"/> is refused, or null when it is public.</summary>
    public static string? BlockReason(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return BlockReason(address.MapToIPv4());
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            foreach (var network in BlockedV4)
            {
                if (network.Contains(address))
                {
                    return $"{address} is in the reserved range {network}";
                }
            }

            return null;
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return $"{address} is not an IP address";
        }

        foreach (var network in BlockedV6)
        {
            if (network.Contains(address))
            {
                return $"{address} is in the reserved range {network}";
            }
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return BlockReason(new IPAddress(bytes[12..16]));
        }

        if (SixToFour.Contains(address))
        {
            return BlockReason(new IPAddress(bytes[2..6]));
        }

        return null;
    }
}
