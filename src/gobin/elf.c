// SPDX-License-Identifier: MIT
/*
 * ELF layer of gobin: program headers, sections, .symtab, and the mapping
 * from virtual addresses to bytes of the file image. Everything above this
 * file reads the image only through gobin__ptr()/gobin__section(), which
 * are bounds-checked, so a truncated file cannot make them read past it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin_int.h"

/* Does [off, off+len) lie inside an image of img_len bytes? */
static bool in_image(const struct gobin *gb, uint64_t off, uint64_t len)
{
	return off <= gb->img_len && len <= gb->img_len - off;
}

static int load_phdrs(struct gobin *gb, char *err, size_t errlen)
{
	size_t n;

	if (elf_getphdrnum(gb->elf, &n)) {
		snprintf(err, errlen, "cannot read ELF program headers: %s",
			 elf_errmsg(-1));
		return -EINVAL;
	}
	gb->phdrs = calloc(n ? n : 1, sizeof(*gb->phdrs));
	if (!gb->phdrs)
		return -ENOMEM;
	gb->elfi.min_vaddr = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr *ph = &gb->phdrs[gb->phdr_cnt];

		if (!gelf_getphdr(gb->elf, (int)i, ph)) {
			snprintf(err, errlen, "corrupt ELF program header %zu",
				 i);
			return -EINVAL;
		}
		gb->phdr_cnt++;
		switch (ph->p_type) {
		case PT_LOAD:
			/* A copy cut short (interrupted download, full disk)
			 * must be named as such, not misread. */
			if (!in_image(gb, ph->p_offset, ph->p_filesz)) {
				snprintf(err, errlen,
					 "truncated file: segment %zu ends at byte %llu, the file has %zu",
					 i, (unsigned long long)(ph->p_offset + ph->p_filesz),
					 gb->img_len);
				return -EINVAL;
			}
			if (ph->p_vaddr < gb->elfi.min_vaddr)
				gb->elfi.min_vaddr = ph->p_vaddr & ~0xfffULL;
			break;
		case PT_INTERP:
			gb->elfi.dynamic = true;
			if (ph->p_filesz > 0 &&
			    in_image(gb, ph->p_offset, ph->p_filesz) &&
			    gb->img[ph->p_offset + ph->p_filesz - 1] == 0)
				gb->elfi.interp =
					(const char *)gb->img + ph->p_offset;
			break;
		case PT_DYNAMIC:
			gb->elfi.dynamic = true;
			break;
		case PT_TLS:
			gb->elfi.has_tls = true;
			gb->elfi.tls_memsz = ph->p_memsz;
			gb->elfi.tls_align = ph->p_align;
			break;
		}
	}
	if (gb->elfi.min_vaddr == UINT64_MAX) {
		snprintf(err, errlen, "ELF file has no loadable segment");
		return -EINVAL;
	}
	return 0;
}

static bool is_compressed(const char *name, const GElf_Shdr *sh)
{
	return (sh->sh_flags & SHF_COMPRESSED) ||
	       strncmp(name, ".zdebug", 7) == 0;
}

static int load_sections(struct gobin *gb, char *err, size_t errlen)
{
	size_t shnum, shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(gb->elf, &shnum) ||
	    elf_getshdrstrndx(gb->elf, &shstrndx)) {
		/* Section headers are optional in an executable. */
		return 0;
	}
	gb->secs = calloc(shnum ? shnum : 1, sizeof(*gb->secs));
	if (!gb->secs)
		return -ENOMEM;
	/* Indexed like the file's section header table, so that a symbol's
	 * st_shndx finds its section; unreadable entries keep name NULL. */
	gb->sec_cnt = shnum;
	while ((scn = elf_nextscn(gb->elf, scn))) {
		size_t idx = elf_ndxscn(scn);
		struct gobin_section *s;
		const char *name;
		GElf_Shdr sh;

		if (idx >= shnum)
			break;
		s = &gb->secs[idx];
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(gb->elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		s->name = name;
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->offset = sh.sh_offset;
		s->type = sh.sh_type;
		s->flags = sh.sh_flags;
		/* Compressed sections are only DWARF, which libdw inflates
		 * itself; everything else is used in place. */
		if (sh.sh_type != SHT_NOBITS &&
		    !in_image(gb, sh.sh_offset, sh.sh_size)) {
			snprintf(err, errlen,
				 "truncated file: section %s ends past its %zu bytes",
				 name, gb->img_len);
			return -EINVAL;
		}
		if (sh.sh_type != SHT_NOBITS && !is_compressed(name, &sh))
			s->data = gb->img + sh.sh_offset;
		if (!strcmp(name, ".symtab"))
			gb->elfi.has_symtab = true;
		if (!strcmp(name, ".debug_info") ||
		    !strcmp(name, ".zdebug_info"))
			gb->elfi.has_dwarf = true;
	}
	return 0;
}

/* The letter nm(1) prints for a defined symbol in section sec. */
static char nm_letter(const GElf_Sym *sym, const struct gobin_section *sec)
{
	char c;

	if (sym->st_shndx == SHN_UNDEF)
		return 'U';
	if (sym->st_shndx == SHN_ABS)
		c = 'a';
	else if (!sec)
		c = '?';
	else if (sec->flags & SHF_EXECINSTR)
		c = 't';
	else if (sec->type == SHT_NOBITS)
		c = 'b';
	else if (sec->flags & SHF_WRITE)
		c = 'd';
	else
		c = 'r';
	if (GELF_ST_BIND(sym->st_info) != STB_LOCAL && c != '?')
		c = (char)(c - 'a' + 'A');
	return c;
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct gobin_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_sym_name(const void *a, const void *b)
{
	const struct gobin_sym *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int load_symtab(struct gobin *gb)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(gb->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return 0;	/* unreadable symtab: as if stripped */
		n = sh.sh_size / sh.sh_entsize;
		gb->syms = calloc(n ? n : 1, sizeof(*gb->syms));
		gb->syms_by_name = calloc(n ? n : 1, sizeof(*gb->syms_by_name));
		if (!gb->syms || !gb->syms_by_name)
			return -ENOMEM;
		for (size_t i = 1; i < n; i++) {
			struct gobin_sym *s = &gb->syms[gb->sym_cnt];
			const struct gobin_section *sec = NULL;
			const char *name;
			GElf_Sym sym;
			int t;

			if (!gelf_getsym(d, (int)i, &sym))
				break;
			t = GELF_ST_TYPE(sym.st_info);
			if (t == STT_SECTION || t == STT_FILE ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(gb->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (sym.st_shndx < SHN_LORESERVE &&
			    sym.st_shndx < gb->sec_cnt &&
			    gb->secs[sym.st_shndx].name)
				sec = &gb->secs[sym.st_shndx];
			s->name = name;
			s->addr = sym.st_value;
			s->size = sym.st_size;
			s->type = nm_letter(&sym, sec);
			gb->sym_cnt++;
		}
		break;
	}
	if (!gb->sym_cnt)
		return 0;
	qsort(gb->syms, gb->sym_cnt, sizeof(*gb->syms), cmp_sym_addr);
	for (size_t i = 0; i < gb->sym_cnt; i++)
		gb->syms_by_name[i] = &gb->syms[i];
	qsort(gb->syms_by_name, gb->sym_cnt, sizeof(*gb->syms_by_name),
	      cmp_sym_name);
	return 0;
}

int gobin_elf__load(struct gobin *gb, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	int ret;

	if (gb->img_len < 4 || memcmp(gb->img, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "not an ELF file");
		return -ENOEXEC;
	}
	gb->elf = elf_memory((char *)gb->img, gb->img_len);
	if (!gb->elf || elf_kind(gb->elf) != ELF_K_ELF ||
	    !gelf_getehdr(gb->elf, &eh)) {
		snprintf(err, errlen, "corrupt ELF header: %s",
			 elf_errmsg(-1));
		return -EINVAL;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen,
			 "not an x86-64 executable (ELF class %d, machine %d); gosnoop supports linux/amd64 Go binaries",
			 eh.e_ident[EI_CLASS], eh.e_machine);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		snprintf(err, errlen,
			 "not an executable (ELF type %d): an object file or core dump?",
			 eh.e_type);
		return -ENOEXEC;
	}
	gb->elfi.pie = eh.e_type == ET_DYN;
	gb->elfi.entry = eh.e_entry;
	/* Section headers sit at the end of the file: a copy cut short
	 * loses them first. */
	if (eh.e_shoff && (eh.e_shoff > gb->img_len ||
			   (uint64_t)eh.e_shnum * eh.e_shentsize >
				   gb->img_len - eh.e_shoff)) {
		snprintf(err, errlen,
			 "truncated file: section headers end past its %zu bytes",
			 gb->img_len);
		return -EINVAL;
	}
	ret = load_phdrs(gb, err, errlen);
	if (!ret)
		ret = load_sections(gb, err, errlen);
	if (!ret)
		ret = load_symtab(gb);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

void gobin_elf__free(struct gobin *gb)
{
	free(gb->phdrs);
	free(gb->secs);
	free(gb->syms);
	free(gb->syms_by_name);
	if (gb->elf)
		elf_end(gb->elf);
}

const struct gobin_elf_info *gobin__elf(const struct gobin *gb)
{
	return &gb->elfi;
}

size_t gobin__sym_cnt(const struct gobin *gb)
{
	return gb->sym_cnt;
}

const struct gobin_sym *gobin__sym(const struct gobin *gb, size_t i)
{
	return i < gb->sym_cnt ? &gb->syms[i] : NULL;
}

const struct gobin_sym *gobin__sym_by_name(const struct gobin *gb,
					   const char *name)
{
	size_t lo = 0, hi = gb->sym_cnt;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(gb->syms_by_name[mid]->name, name);

		if (!c)
			return gb->syms_by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gobin_section *gobin__section(const struct gobin *gb,
					   const char *name)
{
	for (size_t i = 0; i < gb->sec_cnt; i++)
		if (gb->secs[i].name && !strcmp(gb->secs[i].name, name))
			return &gb->secs[i];
	return NULL;
}

/* The PT_LOAD segment whose file-backed part holds [vaddr, vaddr+len). */
static const GElf_Phdr *load_segment(const struct gobin *gb, uint64_t vaddr,
				     uint64_t len)
{
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr)
			continue;
		if (vaddr - ph->p_vaddr > ph->p_filesz ||
		    len > ph->p_filesz - (vaddr - ph->p_vaddr))
			continue;
		if (!in_image(gb, ph->p_offset, ph->p_filesz))
			continue;
		return ph;
	}
	return NULL;
}

const void *gobin__ptr(const struct gobin *gb, uint64_t vaddr, size_t len)
{
	const GElf_Phdr *ph = load_segment(gb, vaddr, len);

	if (!ph)
		return NULL;
	return gb->img + ph->p_offset + (vaddr - ph->p_vaddr);
}

int gobin__vaddr_to_offset(const struct gobin *gb, uint64_t vaddr,
			   uint64_t *off)
{
	const GElf_Phdr *ph = load_segment(gb, vaddr, 1);

	if (!ph)
		return -EFAULT;
	*off = ph->p_offset + (vaddr - ph->p_vaddr);
	return 0;
}
