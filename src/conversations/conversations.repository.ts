import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ContactEntity, ContactIdentityEntity } from './contact.entity';
import { ConversationEntity } from './conversation.entity';

/** The one owner of the conversations tables' SQL (conversations and their messages). */
@Injectable()
export class ConversationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string): Promise<ConversationEntity | null> {
    return this.dataSource.getRepository(ConversationEntity).findOneBy({ id });
  }

  findByKey(key: string): Promise<ConversationEntity | null> {
    return this.dataSource.getRepository(ConversationEntity).findOneBy({ key });
  }

  findContactById(id: string): Promise<ContactEntity | null> {
    return this.dataSource.getRepository(ContactEntity).findOneBy({ id });
  }

  identitiesOfContact(contactId: string): Promise<ContactIdentityEntity[]> {
    return this.dataSource
      .getRepository(ContactIdentityEntity)
      .find({ where: { contactId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }
}
