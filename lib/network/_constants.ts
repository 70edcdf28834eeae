/**
 * rtnetlink constants with the kernel's names (include/uapi/linux/netlink.h,
 * rtnetlink.h, if_link.h, if_addr.h, veth.h). Only what the runtime uses.
 *
 * @module
 */

/** Address families. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

/** The netlink protocol of routing and link messages. */
export const NETLINK_ROUTE = 0;
/** The socket option level of netlink options. */
export const SOL_NETLINK = 270;
/** Netlink socket options. */
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

/** SOCK_RAW, the socket type of netlink sockets. */
export const SOCK_RAW = 3;
/** SOL_SOCKET options used here. */
export const SO_RCVTIMEO = 20;
export const SO_RCVBUF = 8;

/** Control message types (below NLMSG_MIN_TYPE). */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** nlmsghdr flags. */
export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  // GET requests
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  // ACK messages
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** Extended ACK attributes (NETLINK_EXT_ACK). */
export const NLMSGERR_ATTR_MSG = 1;

/** rtnetlink message types. */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** The kernel name of a message type, such as `RTM_NEWLINK`, for messages. */
export function messageTypeName(type: number): string {
  for (const [name, value] of Object.entries(RTM)) {
    if (value === type) return `RTM_${name}`;
  }
  for (const [name, value] of Object.entries(NLMSG)) {
    if (value === type) return `NLMSG_${name}`;
  }
  return `message type ${type}`;
}

/** Attribute type flags and the mask that removes them. */
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;

/** Link attributes (if_link.h). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  STATS: 7,
  MASTER: 10,
  PROTINFO: 12,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_PID: 19,
  STATS64: 23,
  NET_NS_FD: 28,
} as const;

/** Nested in IFLA_LINKINFO. */
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;

/** Nested in IFLA_INFO_DATA of a veth. */
export const VETH_INFO_PEER = 1;

/** Bridge port attributes (IFLA_PROTINFO of AF_BRIDGE, IFLA_INFO_SLAVE_DATA). */
export const IFLA_BRPORT = { STATE: 1, PRIORITY: 2, COST: 3, MODE: 4 } as const;

/** Interface flags (net/if.h). */
export const IFF_UP = 0x1;

/** Address attributes (if_addr.h). */
export const IFA = {
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  FLAGS: 8,
} as const;

/** Address flags. */
export const IFA_F = { SECONDARY: 0x01, NODAD: 0x02, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;

/** Route attributes (rtnetlink.h). */
export const RTA = {
  DST: 1,
  SRC: 2,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  TABLE: 15,
} as const;

/** Route scopes. */
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 } as const;
/** The main routing table. */
export const RT_TABLE_MAIN = 254;
/** Route origin: what iproute2 uses for routes an administrator adds. */
export const RTPROT_BOOT = 3;
/** Route types. */
export const RTN_UNICAST = 1;

/** Sizes of the fixed headers. */
export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;
export const RTATTR_HDRLEN = 4;

/** The longest interface name (IFNAMSIZ - 1). */
export const IFNAMSIZ_MAX = 15;
