/*
 * The WAN lab's delay line (docs/wan-lab.md). This kernel has no netem qdisc,
 * so the router namespace hands forwarded packets to this program through
 * iptables NFQUEUE; it holds each packet for a fixed time and then accepts it.
 *
 *   delayer QUEUE:DELAY_US [QUEUE:DELAY_US ...]
 *
 * One FIFO per queue: every packet of a queue waits the same time, so the
 * order is kept and the head is always the next one due. Only packet metadata
 * is copied to userspace (the id), never the payload. Prints "ready" on stdout
 * once every queue is bound: the lab adds its NFQUEUE rules after that, as a
 * queue without a listener drops everything (NFQUEUE fails closed). Exits on
 * SIGTERM/SIGINT; packets still held are dropped when the queues unbind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUES 32
#define RING 65536          /* packets held per queue at most (a power of two) */
#define KERNEL_QUEUE 65536  /* the kernel's own queue length per NFQUEUE */
#define RCVBUF (16 << 20)   /* bytes of netlink receive buffer */

struct held { uint32_t id; uint64_t due; };
struct fifo {
  struct nfq_q_handle *qh;
  uint16_t num;
  uint64_t delay;          /* ns */
  struct held ring[RING];
  uint32_t head, tail;     /* head: next to release; tail: next free */
};

static struct fifo *fifos[MAX_QUEUES];
static int nfifos;
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  struct fifo *f = data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  if (f->tail - f->head >= RING) return nfq_set_verdict(qh, id, NF_DROP, 0, NULL); /* full: a router drops too */
  f->ring[f->tail % RING] = (struct held){ id, now_ns() + f->delay };
  f->tail++;
  return 0;
}

static void on_signal(int sig) { (void)sig; stopping = 1; }

int main(int argc, char **argv) {
  if (argc < 2 || argc - 1 > MAX_QUEUES) {
    fprintf(stderr, "usage: delayer QUEUE:DELAY_US [QUEUE:DELAY_US ...] (at most %d)\n", MAX_QUEUES);
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  /* Real-time priority where allowed: on a busy machine an ordinary process is
   * woken late and every packet's delay grows with the load. It sleeps in
   * ppoll between releases, and the kernel's RT throttling bounds it anyway. */
  struct sched_param sp = { .sched_priority = 10 };
  if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) fprintf(stderr, "delayer: no real-time priority (%s): delays may grow under load\n", strerror(errno));
  struct nfq_handle *h = nfq_open();
  if (!h) { perror("delayer: nfq_open"); return 1; }
  for (int i = 1; i < argc; i++) {
    unsigned num; unsigned long long us;
    if (sscanf(argv[i], "%u:%llu", &num, &us) != 2 || num > 65535) {
      fprintf(stderr, "delayer: bad queue spec '%s' (want QUEUE:DELAY_US)\n", argv[i]);
      return 2;
    }
    struct fifo *f = calloc(1, sizeof *f);
    if (!f) { perror("delayer: calloc"); return 1; }
    f->num = (uint16_t)num;
    f->delay = us * 1000ull;
    f->qh = nfq_create_queue(h, f->num, on_packet, f);
    if (!f->qh) { fprintf(stderr, "delayer: cannot bind queue %u: %s\n", num, strerror(errno)); return 1; }
    if (nfq_set_mode(f->qh, NFQNL_COPY_META, 0) < 0) { perror("delayer: nfq_set_mode"); return 1; }
    nfq_set_queue_maxlen(f->qh, KERNEL_QUEUE);
    fifos[nfifos++] = f;
  }
  int fd = nfq_fd(h);
  nfnl_rcvbufsiz(nfq_nfnlh(h), RCVBUF);
  printf("ready\n");
  fflush(stdout);

  char buf[65536] __attribute__((aligned));
  while (!stopping) {
    /* release every packet that is due, then sleep until the next one or a new packet */
    uint64_t t = now_ns(), next = UINT64_MAX;
    for (int i = 0; i < nfifos; i++) {
      struct fifo *f = fifos[i];
      while (f->head != f->tail && f->ring[f->head % RING].due <= t) {
        nfq_set_verdict(f->qh, f->ring[f->head % RING].id, NF_ACCEPT, 0, NULL);
        f->head++;
      }
      if (f->head != f->tail && f->ring[f->head % RING].due < next) next = f->ring[f->head % RING].due;
    }
    struct timespec wait, *waitp = NULL;
    if (next != UINT64_MAX) {
      uint64_t d = next > t ? next - t : 0;
      wait.tv_sec = (time_t)(d / 1000000000ull);
      wait.tv_nsec = (long)(d % 1000000000ull);
      waitp = &wait;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = ppoll(&p, 1, waitp, NULL);
    if (r < 0) { if (errno == EINTR) continue; perror("delayer: ppoll"); return 1; }
    if (r == 0) continue;
    /* drain what is readable without blocking */
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        if (errno == ENOBUFS) { fprintf(stderr, "delayer: netlink buffer overrun (packets lost)\n"); continue; }
        perror("delayer: recv");
        return 1;
      }
      nfq_handle_packet(h, buf, (int)n);
    }
  }
  for (int i = 0; i < nfifos; i++) nfq_destroy_queue(fifos[i]->qh);
  nfq_close(h);
  return 0;
}
