/* Prints the sizes, offsets and constants of the Wireshark C ABI that the Rust plugin mirrors
 * by hand (plugin-c-abi/src/ws40.rs), one "name=value" per line, sorted by the order below.
 * Build and run with ./run.sh; plugin-c-abi/tests/abi_check.rs compares the output with the
 * numbers compiled into the plugin (ws40::ABI_TABLE). */
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/column-utils.h>
#include <epan/frame_data.h>
#include <epan/ftypes/ftypes.h>
#include <wiretap/wtap.h>
#include <ws_version.h>

#define P(name, v) printf("%s=%lld\n", name, (long long)(v))
#define SZ(t) P("sizeof(" #t ")", sizeof(t))
#define OFF(t, f) P("offsetof(" #t "," #f ")", offsetof(t, f))

int main(void) {
  P("WIRESHARK_VERSION_MAJOR", WIRESHARK_VERSION_MAJOR);
  P("WIRESHARK_VERSION_MINOR", WIRESHARK_VERSION_MINOR);

  SZ(header_field_info);
  OFF(header_field_info, name);
  OFF(header_field_info, abbrev);
  OFF(header_field_info, type);
  OFF(header_field_info, display);
  OFF(header_field_info, strings);
  OFF(header_field_info, bitmask);
  OFF(header_field_info, blurb);
  OFF(header_field_info, id);
  OFF(header_field_info, parent);
  OFF(header_field_info, ref_type);
  OFF(header_field_info, same_name_prev_id);
  OFF(header_field_info, same_name_next);
  SZ(hf_register_info);
  OFF(hf_register_info, hfinfo);
  SZ(proto_plugin);
  SZ(proto_node);
  OFF(proto_node, finfo);
  OFF(proto_node, tree_data);
  OFF(tree_data_t, visible);
  SZ(field_info);
  OFF(field_info, flags);
  SZ(expert_field);
  SZ(expert_field_info);
  OFF(expert_field_info, group);
  OFF(expert_field_info, severity);
  OFF(expert_field_info, summary);
  OFF(expert_field_info, id);
  OFF(expert_field_info, protocol);
  OFF(expert_field_info, orig_severity);
  OFF(expert_field_info, hf_info);
  SZ(ei_register_info);
  OFF(ei_register_info, eiinfo);
  SZ(nstime_t);
  OFF(nstime_t, nsecs);
  OFF(packet_info, cinfo);
  OFF(packet_info, num);
  OFF(packet_info, abs_ts);
  OFF(packet_info, fd);
  OFF(packet_info, rec);
  OFF(frame_data, num);
  OFF(frame_data, pkt_len);
  OFF(frame_data, cap_len);
  {
    /* The bit-field frame_data.visited: find its byte and mask. */
    frame_data fd;
    unsigned char *b = (unsigned char *)&fd;
    size_t i;
    memset(&fd, 0, sizeof fd);
    fd.visited = 1;
    for (i = 0; i < sizeof fd; i++) {
      if (b[i]) {
        P("frame_data.visited.byte", i);
        P("frame_data.visited.mask", b[i]);
      }
    }
  }
  OFF(wtap_rec, rec_type);
  OFF(wtap_rec, rec_header);
  P("offsetof(wtap_rec,rec_header.packet_header.pkt_encap)", offsetof(wtap_rec, rec_header.packet_header.pkt_encap));

  P("FT_NONE", FT_NONE);
  P("FT_PROTOCOL", FT_PROTOCOL);
  P("FT_BOOLEAN", FT_BOOLEAN);
  P("FT_UINT8", FT_UINT8);
  P("FT_UINT16", FT_UINT16);
  P("FT_UINT32", FT_UINT32);
  P("FT_UINT64", FT_UINT64);
  P("FT_INT64", FT_INT64);
  P("FT_STRING", FT_STRING);
  P("FT_BYTES", FT_BYTES);
  P("FT_FRAMENUM", FT_FRAMENUM);
  P("BASE_NONE", BASE_NONE);
  P("BASE_DEC", BASE_DEC);
  P("BASE_HEX", BASE_HEX);
  P("HF_REF_TYPE_NONE", HF_REF_TYPE_NONE);
  P("ENC_NA", ENC_NA);
  P("COL_INFO", COL_INFO);
  P("FI_GENERATED", FI_GENERATED);
  P("REC_TYPE_PACKET", REC_TYPE_PACKET);
  P("PI_CHAT", PI_CHAT);
  P("PI_NOTE", PI_NOTE);
  P("PI_WARN", PI_WARN);
  P("PI_ERROR", PI_ERROR);
  P("PI_CHECKSUM", PI_CHECKSUM);
  P("PI_SEQUENCE", PI_SEQUENCE);
  P("PI_MALFORMED", PI_MALFORMED);
  P("PI_PROTOCOL", PI_PROTOCOL);
  P("PI_SECURITY", PI_SECURITY);
  P("PI_DECRYPTION", PI_DECRYPTION);
  return 0;
}
